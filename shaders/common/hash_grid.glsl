// The multi-resolution hash encoding's cell corners (Instant-NGP), shared by shaders/hash_grid.comp
// and the GLSL export (io::export_glsl), so that both index the table identically.
#ifndef VKGRAD_HASH_GRID_GLSL
#define VKGRAD_HASH_GRID_GLSL

// The table entry (counted from the start of the whole table) of corner `corner_bits` (bit d:
// the upper vertex along dimension d) of the cell holding `coords` (the first `dims` of them,
// in [0, 1]) at one level, and that corner's multilinear weight. `level`: x the resolution N,
// y the level's first entry, z its entries (a power of two when hashed), w 1 when its vertices
// (N + 1)^dims are indexed densely, else hashed as Instant-NGP does (c0 ⊕ c1·2654435761 ⊕
// c2·805459861 modulo the level's entries). The cell is floor(x·N), clamped to N − 1.
uint hash_grid_entry(in float coords[3], uint dims, uvec4 level, uint corner_bits, out float weight) {
  const uint n = level.x;
  const uint primes[3] = uint[3](1u, 2654435761u, 805459861u);
  uint dense = 0u, stride = 1u, hashed = 0u;
  weight = 1.0;
  for (uint d = 0u; d < dims; ++d) {
    const float pos = coords[d] * float(n);
    const uint cell = uint(clamp(floor(pos), 0.0, float(n - 1u)));
    const float frac = pos - float(cell);
    const uint up = (corner_bits >> d) & 1u;
    const uint c = cell + up;
    weight *= up != 0u ? frac : 1.0 - frac;
    dense += c * stride;
    stride *= n + 1u;
    hashed ^= c * primes[d];
  }
  return level.y + (level.w != 0u ? dense : (hashed & (level.z - 1u)));
}

#endif
