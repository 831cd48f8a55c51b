#include "vkgrad/kernels/gemm.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/gemm_tuning.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {
namespace {

// Tiles of the portable kernel (shaders/gemm_tiled.comp): BM×BN block, BK slab, TM×TN per
// invocation; 256 invocations each.
struct TiledTiles {
  uint32_t bm, bn, bk, tm, tn;
  uint32_t threads() const { return (bm / tm) * (bn / tn); }
  uint32_t shared_bytes() const { return 4 * bk * (bm + 1 + bn + 1); }  // rows padded by a word
};

TiledTiles tiled_tiles(GemmPreset p) {
  switch (p) {
    case GemmPreset::Small: return {32, 32, 16, 2, 2};
    case GemmPreset::Medium: return {64, 64, 16, 4, 4};
    case GemmPreset::Large: return {128, 128, 16, 8, 8};
  }
  return {64, 64, 16, 4, 4};
}

// Tiles of the cooperative-matrix kernel: 2×2 subgroups, each RM×RN accumulators of the
// device's shape; the preset sets the block edge it aims for (32, 64, 128).
struct CoopmatTiles {
  uint32_t cm_m, cm_n, cm_k, wm, wn, rm, rn, bk, subgroup;
  uint32_t bm() const { return wm * rm * cm_m; }
  uint32_t bn() const { return wn * rn * cm_n; }
  uint32_t threads() const { return wm * wn * subgroup; }
  // Two fp16 slabs of each operand with rows padded by 8 halves (shaders/common/gemm_stage.glsl),
  // and one fp32 accumulator tile per subgroup.
  uint32_t shared_bytes() const { return 2 * 2 * (bm() * (bk + 8) + bk * (bn() + 8)) + 4 * wm * wn * cm_m * cm_n; }
};

CoopmatTiles coopmat_tiles(const CoopmatChoice& c, GemmPreset p) {
  const uint32_t edge = p == GemmPreset::Small ? 32 : p == GemmPreset::Medium ? 64 : 128;
  CoopmatTiles t{c.shape.m, c.shape.n, c.shape.k, 2, 2, 1, 1, 2 * c.shape.k, c.subgroup_size};
  t.rm = std::max(1u, edge / (t.wm * t.cm_m));
  t.rn = std::max(1u, edge / (t.wn * t.cm_n));
  return t;
}

// Tiles of the NV cooperative-matrix-2 kernel (shaders/gemm_coopmat2.comp): 2×2 subgroups,
// each one flexible TM×TN accumulator (a multiple of the granularity near the preset's edge of
// 16, 32 or 64), K steps of TK, BK-deep slabs.
struct Coopmat2Tiles {
  uint32_t tm, tn, tk, wm, wn, bk, subgroup;
  uint32_t bm() const { return wm * tm; }
  uint32_t bn() const { return wn * tn; }
  uint32_t threads() const { return wm * wn * subgroup; }
  uint32_t shared_bytes() const { return 2 * 2 * (bm() * (bk + 8) + bk * (bn() + 8)); }
};

Coopmat2Tiles coopmat2_tiles(const Coopmat2Choice& c, GemmPreset p) {
  const uint32_t edge = p == GemmPreset::Small ? 16 : p == GemmPreset::Medium ? 32 : 64;
  const auto multiple = [](uint32_t target, uint32_t g) { return std::max(g, target / g * g); };
  const uint32_t tk = multiple(16, c.shape.k_granularity);
  // Staging moves 8 halves at a time, so BK is a multiple of 8 as well as of TK.
  const uint32_t bk = tk % 8 == 0 ? std::max(tk, 32 / tk * tk) : 8 * tk;
  return {multiple(edge, c.shape.m_granularity), multiple(edge, c.shape.n_granularity), tk, 2, 2, bk, c.subgroup_size};
}

// Tiles of the CPU-shaped kernel (shaders/gemm_cpu.comp): one subgroup-sized workgroup of
// `lanes` computes rm rows × 2·lanes·vn columns.
struct CpuTiles {
  uint32_t lanes, rm, vn;
  uint32_t bm() const { return rm; }
  uint32_t bn() const { return 2 * lanes * vn; }
};

CpuTiles cpu_tiles(const vk::Caps& caps, GemmPreset p) {
  const uint32_t lanes = std::clamp(caps.subgroup_size, 1u, std::min(caps.max_workgroup_size[0], 64u));
  switch (p) {
    case GemmPreset::Small: return {lanes, 4, 1};
    case GemmPreset::Medium: return {lanes, 8, 1};
    case GemmPreset::Large: return {lanes, 12, 1};
  }
  return {lanes, 8, 1};
}

bool conv_addressed_a(const GemmDesc& d) { return d.conv == ConvPass::DataGrad || d.conv == ConvPass::WeightGrad; }
bool conv_addressed_b(const GemmDesc& d) { return d.conv != ConvPass::None; }

// The descriptor as the kernels read it: a convolution's forward weight is a stored matrix per
// group, and conv-addressed operands have no layout of their own.
GemmDesc effective(const GemmDesc& d) {
  GemmDesc e = d;
  const ConvGeometry& g = d.geometry;
  if (d.conv == ConvPass::Forward) {
    e.a.ld = g.in_channels * g.taps();
    e.a.batch_stride = g.out_channels * g.in_channels * g.taps();
    e.a.transpose = false;
  }
  if (conv_addressed_a(d)) e.a = {d.a.range, d.a.type, 0, 0, false};
  if (conv_addressed_b(d)) e.b = {d.b.range, d.b.type, 0, 0, false};
  return e;
}

// 1 when an operand can be staged 128 bits at a time (A_VEC, B_VEC in shaders/common/gemm.glsl):
// every row, batch entry and the binding itself start on a 16-byte boundary. Conv-addressed
// operands (ld 0) never can.
uint32_t vector_loads(const GemmOperand& op, uint32_t batch) {
  if (op.ld == 0) return 0;
  const uint32_t per_vector = op.type == ElemType::F16 ? 8 : 4;
  const bool aligned = op.ld % per_vector == 0 && (batch == 1 || op.batch_stride % per_vector == 0) &&
                       op.range.offset % 16 == 0;
  return aligned ? 1u : 0u;
}

// 1 when the coopmat kernel may store accumulators straight to C (C_DIRECT in
// shaders/gemm_coopmat.comp): fp32 C in 16-byte-aligned rows, no bias, no activation.
uint32_t direct_c(const GemmDesc& d) {
  const bool ok = d.c.type == ElemType::F32 && !d.bias && d.activation == Activation::None && d.c.ld % 4 == 0 &&
                  (d.batch == 1 || d.c.batch_stride % 4 == 0) && d.c.range.offset % 16 == 0;
  return ok ? 1u : 0u;
}

bool fits(const vk::Caps& caps, uint32_t threads, uint32_t shared) {
  return threads <= caps.max_workgroup_invocations && threads <= caps.max_workgroup_size[0] &&
         shared <= caps.max_shared_memory;
}

// Elements an operand stored as rows×cols must span, and the bytes that covers.
uint64_t span_elements(uint32_t batch, uint32_t stride, uint32_t rows, uint32_t cols, uint32_t ld) {
  return uint64_t(batch - 1) * stride + uint64_t(rows - 1) * ld + cols;
}

void check_operand(const char* name, const GemmOperand& op, uint32_t batch, uint32_t rows, uint32_t cols) {
  const std::string shape = std::to_string(rows) + "×" + std::to_string(cols);
  if (op.ld < cols)
    throw Error(std::string("gemm operand ") + name + " is stored " + shape + " but its leading dimension is " +
                    std::to_string(op.ld),
                "the leading dimension must be at least the stored row length");
  if (batch > 1 && uint64_t(op.batch_stride) < uint64_t(rows - 1) * op.ld + cols)
    throw Error(std::string("gemm operand ") + name + "'s batch stride " + std::to_string(op.batch_stride) +
                    " is smaller than one " + shape + " matrix",
                "batch entries must not overlap");
  const uint64_t elements = span_elements(batch, op.batch_stride, rows, cols, op.ld);
  if (elements > 0xFFFFFFFFull)
    throw Error(std::string("gemm operand ") + name + " spans more than 2^32 elements", "split the batch");
  if (tensor_bytes(op.type, elements) > op.range.size)
    throw Error(std::string("gemm operand ") + name + " (" + shape + ", batch " + std::to_string(batch) + ") needs " +
                    std::to_string(tensor_bytes(op.type, elements)) + " bytes, its range has " +
                    std::to_string(op.range.size),
                "bind a larger buffer range or fix the shape");
}

}  // namespace

std::string_view gemm_variant_name(GemmVariant v) {
  switch (v) {
    case GemmVariant::Coopmat: return "coopmat";
    case GemmVariant::Coopmat2: return "coopmat2";
    case GemmVariant::Tiled16: return "tiled16";
    case GemmVariant::Fp32: return "fp32";
    case GemmVariant::Cpu: return "cpu";
  }
  return "?";
}

std::optional<GemmVariant> gemm_variant_from_name(std::string_view name) {
  for (GemmVariant v : {GemmVariant::Coopmat, GemmVariant::Coopmat2, GemmVariant::Tiled16, GemmVariant::Fp32,
                        GemmVariant::Cpu})
    if (gemm_variant_name(v) == name) return v;
  return std::nullopt;
}

std::string_view gemm_preset_name(GemmPreset p) {
  switch (p) {
    case GemmPreset::Small: return "small";
    case GemmPreset::Medium: return "medium";
    case GemmPreset::Large: return "large";
  }
  return "?";
}

GemmChoice select_gemm(const vk::Caps& caps, uint32_t m, uint32_t n, ElemType a, ElemType b,
                       std::optional<GemmVariant> forced) {
  const bool fp16 = a == ElemType::F16 && b == ElemType::F16;
  const auto coopmat = select_coopmat(caps);
  const bool pointers = caps.enabled(vk::Feature::BufferDeviceAddress);
  GemmChoice choice;
  if (forced) {
    choice.variant = *forced;
    if (*forced == GemmVariant::Coopmat && !coopmat)
      throw Error("the coopmat GEMM was requested but the device has no enabled fp16·fp16→fp32 cooperative matrix",
                  "use tiled16, or check `vkgrad-info` and VKGRAD_DISABLE");
    if ((*forced == GemmVariant::Coopmat || *forced == GemmVariant::Coopmat2) && !fp16)
      throw Error("the " + std::string(gemm_variant_name(*forced)) + " GEMM needs fp16 A and B",
                  "convert the operands or use the fp32 variant");
    if (*forced == GemmVariant::Coopmat2 && !select_coopmat2(caps))
      throw Error("the coopmat2 GEMM was requested but the device has no enabled VK_NV_cooperative_matrix2 with "
                  "flexible fp16·fp16→fp32 subgroup shapes and per-element operations",
                  "use coopmat or tiled16, or check `vkgrad-info` and VKGRAD_DISABLE");
    if (*forced == GemmVariant::Fp32 && fp16)
      throw Error("the fp32 GEMM takes fp32 A and B", "use tiled16 or coopmat for fp16 operands");
    if (*forced == GemmVariant::Tiled16 && a == ElemType::F32 && b == ElemType::F32)
      throw Error("the tiled16 GEMM takes fp16 operands", "use the fp32 variant for fp32 operands");
    if (*forced == GemmVariant::Cpu && !pointers)
      throw Error("the cpu GEMM was requested but bufferDeviceAddress is not enabled",
                  "use tiled16 or fp32, or enable bufferDeviceAddress (required by Vulkan 1.3)");
  } else if (caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU && pointers) {
    choice.variant = GemmVariant::Cpu;
  } else if (!fp16) {
    choice.variant = GemmVariant::Fp32;
  } else {
    choice.variant = coopmat ? GemmVariant::Coopmat : GemmVariant::Tiled16;
  }
  if (choice.variant == GemmVariant::Cpu) {
    // Its presets differ only in rows per workgroup: the most that m fills, 12 measured best.
    choice.preset = m >= 12 ? GemmPreset::Large : m >= 8 ? GemmPreset::Medium : GemmPreset::Small;
    return choice;
  }
  choice.preset = (m < 64 || n < 64) ? GemmPreset::Small
                  : (m >= 512 && n >= 512) ? GemmPreset::Large
                                           : GemmPreset::Medium;
  // Step down while the device cannot hold the preset's tiles.
  while (choice.preset != GemmPreset::Small && !gemm_choice_fits(caps, choice))
    choice.preset = choice.preset == GemmPreset::Large ? GemmPreset::Medium : GemmPreset::Small;
  return choice;
}

Gemm::Gemm(vk::Context& ctx) : ctx_(ctx) {}

uint32_t ConvGeometry::out_h() const { return (in_h + 2 * pad_h - dilation_h * (kernel_h - 1) - 1) / stride_h + 1; }
uint32_t ConvGeometry::out_w() const { return (in_w + 2 * pad_w - dilation_w * (kernel_w - 1) - 1) / stride_w + 1; }

bool gemm_choice_fits(const vk::Caps& caps, const GemmChoice& c) {
  switch (c.variant) {
    case GemmVariant::Cpu: return true;
    case GemmVariant::Coopmat: {
      const auto cm = select_coopmat(caps);
      return cm && fits(caps, coopmat_tiles(*cm, c.preset).threads(), coopmat_tiles(*cm, c.preset).shared_bytes());
    }
    case GemmVariant::Coopmat2: {
      const auto cm = select_coopmat2(caps);
      if (!cm) return false;
      const Coopmat2Tiles t = coopmat2_tiles(*cm, c.preset);
      return fits(caps, t.threads(), t.shared_bytes()) && std::max(t.tm, t.tn) <= caps.coopmat2_max_dimension;
    }
    default: return fits(caps, tiled_tiles(c.preset).threads(), tiled_tiles(c.preset).shared_bytes());
  }
}

namespace {

void check_image(const char* what, const GemmOperand& op, uint64_t elements) {
  if (elements > 0xFFFFFFFFull)
    throw Error(std::string("convolution ") + what + " spans more than 2^32 elements", "split the batch");
  if (tensor_bytes(op.type, elements) > op.range.size)
    throw Error(std::string("convolution ") + what + " needs " + std::to_string(tensor_bytes(op.type, elements)) +
                    " bytes, its range has " + std::to_string(op.range.size),
                "bind the whole NCHW tensor");
}

// A convolution pass: the GEMM shape follows from the geometry, and the conv-addressed operands
// must hold their NCHW tensors.
void check_conv(const GemmDesc& d) {
  const ConvGeometry& g = d.geometry;
  for (uint32_t v : {g.groups, g.in_channels, g.out_channels, g.in_h, g.in_w, g.kernel_h, g.kernel_w, g.stride_h,
                     g.stride_w, g.dilation_h, g.dilation_w})
    if (v == 0)
      throw Error("convolution geometry with a zero groups, channel, size, kernel, stride or dilation",
                  "every one of them must be at least 1");
  if (uint64_t(g.in_h) + 2 * g.pad_h < uint64_t(g.dilation_h) * (g.kernel_h - 1) + 1 ||
      uint64_t(g.in_w) + 2 * g.pad_w < uint64_t(g.dilation_w) * (g.kernel_w - 1) + 1)
    throw Error("convolution kernel " + std::to_string(g.kernel_h) + "×" + std::to_string(g.kernel_w) +
                    " (dilated) does not fit the padded " + std::to_string(g.in_h) + "×" + std::to_string(g.in_w) +
                    " input",
                "pad the input or use a smaller kernel");
  const uint64_t taps = g.taps(), pixels = uint64_t(g.out_h()) * g.out_w(), in_pixels = uint64_t(g.in_h) * g.in_w;
  const uint64_t weights = uint64_t(g.groups) * g.out_channels * g.in_channels * taps;
  uint64_t m = 0, n = 0, k = 0, samples = 0;
  switch (d.conv) {
    case ConvPass::Forward:
    case ConvPass::DataGrad: {
      const bool fwd = d.conv == ConvPass::Forward;
      if (d.batch % g.groups != 0)
        throw Error("convolution batch " + std::to_string(d.batch) + " is not samples × " + std::to_string(g.groups) +
                        " groups",
                    "set batch = samples · groups");
      samples = d.batch / g.groups;
      m = fwd ? g.out_channels : g.in_channels;
      n = fwd ? pixels : in_pixels;
      k = (fwd ? g.in_channels : g.out_channels) * taps;
      check_image("weight", d.a, weights);
      check_image(fwd ? "input" : "output gradient", d.b,
                  samples * g.groups * (fwd ? g.in_channels * in_pixels : g.out_channels * pixels));
      if (fwd && d.bias && d.bias->size < tensor_bytes(d.bias_type, uint64_t(g.groups) * g.out_channels))
        throw Error("convolution bias needs one element per output channel", "bind the whole bias vector");
      break;
    }
    case ConvPass::WeightGrad:
      if (d.batch != g.groups || d.k % pixels != 0)
        throw Error("convolution weight gradient: batch must be the " + std::to_string(g.groups) +
                        " groups and k samples × " + std::to_string(pixels) + " output pixels",
                    "see ConvPass::WeightGrad");
      samples = d.k / pixels;
      m = g.out_channels, n = g.in_channels * taps, k = d.k;
      check_image("output gradient", d.a, samples * g.groups * g.out_channels * pixels);
      check_image("input", d.b, samples * g.groups * g.in_channels * in_pixels);
      break;
    case ConvPass::None: break;
  }
  if (d.m != m || d.n != n || d.k != k)
    throw Error("convolution pass of GEMM shape " + std::to_string(d.m) + "×" + std::to_string(d.n) + "×" +
                    std::to_string(d.k) + " does not match its geometry (" + std::to_string(m) + "×" +
                    std::to_string(n) + "×" + std::to_string(k) + ")",
                "derive m, n and k as ConvPass documents");
  if (d.bias && d.conv != ConvPass::Forward)
    throw Error("only a convolution's forward pass takes a bias", "sum the output gradient for the bias gradient");
}

void check_desc(const vk::Caps& caps, const GemmDesc& d) {
  if (d.m == 0 || d.n == 0 || d.k == 0 || d.batch == 0)
    throw Error("gemm of shape " + std::to_string(d.m) + "×" + std::to_string(d.n) + "×" + std::to_string(d.k) +
                    " with batch " + std::to_string(d.batch),
                "every dimension must be at least 1");
  if (d.batch > caps.max_workgroup_count[2])
    throw Error("gemm batch " + std::to_string(d.batch) + " exceeds the device's " +
                    std::to_string(caps.max_workgroup_count[2]) + " workgroups in z",
                "split the batch");
  if (d.c.transpose) throw Error("gemm operand C cannot be transposed", "swap and transpose A and B instead");
  check_operand("C", d.c, d.batch, d.m, d.n);
  if (d.conv != ConvPass::None) return check_conv(d);
  check_operand("A", d.a, d.batch, d.a.transpose ? d.k : d.m, d.a.transpose ? d.m : d.k);
  check_operand("B", d.b, d.batch, d.b.transpose ? d.n : d.k, d.b.transpose ? d.k : d.n);
  if (d.bias && d.bias->size < tensor_bytes(d.bias_type, d.n))
    throw Error("gemm bias needs " + std::to_string(d.n) + " elements, its range has " + std::to_string(d.bias->size) +
                    " bytes",
                "bind the whole bias vector");
}

}  // namespace

GemmChoice Gemm::record(vk::Recorder& rec, const GemmDesc& d, std::optional<GemmVariant> forced) const {
  check_desc(ctx_.caps(), d);
  // Convolutions take the rule's choice: tuning measures stored-matrix GEMMs.
  const bool tune = !forced && ctx_.tuning().enabled() && d.conv == ConvPass::None;
  const GemmChoice choice = tune ? tuned_gemm_choice(ctx_, d)
                                                               : select_gemm(ctx_.caps(), d.m, d.n, d.a.type, d.b.type, forced);
  record_with(rec, d, choice);
  return choice;
}

void Gemm::record_with(vk::Recorder& rec, const GemmDesc& desc_in, const GemmChoice& choice) const {
  const auto& caps = ctx_.caps();
  check_desc(caps, desc_in);
  const GemmDesc d = effective(desc_in);
  select_gemm(caps, d.m, d.n, d.a.type, d.b.type, choice.variant);  // throws if the variant cannot run
  if (!gemm_choice_fits(caps, choice))
    throw Error("the " + std::string(gemm_preset_name(choice.preset)) + " tiles of the " +
                    std::string(gemm_variant_name(choice.variant)) + " GEMM exceed the device's workgroup limits",
                "use a smaller preset");
  const std::vector<vk::SpecConstant> types = {{16, uint32_t(d.a.type)},
                                               {17, uint32_t(d.b.type)},
                                               {18, uint32_t(d.c.type)},
                                               {19, uint32_t(d.bias_type)}};
  vk::PipelineDesc desc{.bindings = 4, .push_constant_size = sizeof(GemmArgs)};
  uint32_t bm = 0, bn = 0;
  if (choice.variant == GemmVariant::Cpu) {
    const CpuTiles t = cpu_tiles(caps, choice.preset);
    // fp16 element pairs start a word when every row and batch entry does.
    const auto paired = [&](const GemmOperand& op) {
      return op.type == ElemType::F16 && op.ld != 0 && op.ld % 2 == 0 && (d.batch == 1 || op.batch_stride % 2 == 0);
    };
    desc.shader = "gemm_cpu";
    desc.push_constant_size = sizeof(GemmAddressArgs);
    desc.spec = {{0, t.lanes}, {1, t.rm}, {2, t.vn}, {3, paired(d.a) ? 1u : 0u}, {4, paired(d.b) ? 1u : 0u}};
    bm = t.bm();
    bn = t.bn();
  } else if (choice.variant == GemmVariant::Coopmat2) {
    const Coopmat2Tiles t = coopmat2_tiles(*select_coopmat2(caps), choice.preset);
    desc.shader = "gemm_coopmat2";
    desc.spec = {{0, t.threads()}, {1, t.tm}, {2, t.tn}, {3, t.tk}, {4, t.wm}, {5, t.wn}, {8, t.bk},
                 {22, vector_loads(d.a, d.batch)}, {23, vector_loads(d.b, d.batch)}};
    const bool pin = caps.enabled(vk::Feature::SubgroupSizeControl) && caps.enabled(vk::Feature::FullSubgroups);
    desc.required_subgroup_size = pin ? t.subgroup : 0;
    bm = t.bm();
    bn = t.bn();
  } else if (choice.variant == GemmVariant::Coopmat) {
    const CoopmatTiles t = coopmat_tiles(*select_coopmat(caps), choice.preset);
    desc.shader = "gemm_coopmat";
    desc.spec = {{0, t.threads()}, {1, t.cm_m}, {2, t.cm_n}, {3, t.cm_k}, {4, t.wm},
                 {5, t.wn},        {6, t.rm},   {7, t.rn},   {8, t.bk},   {9, t.subgroup},
                 {10, direct_c(d)}, {22, vector_loads(d.a, d.batch)}, {23, vector_loads(d.b, d.batch)}};
    const bool pin = caps.enabled(vk::Feature::SubgroupSizeControl) && caps.enabled(vk::Feature::FullSubgroups);
    desc.required_subgroup_size = pin ? t.subgroup : 0;
    bm = t.bm();
    bn = t.bn();
  } else {
    const TiledTiles t = tiled_tiles(choice.preset);
    desc.shader = "gemm_tiled";
    // Operands of mixed types are staged as fp32, element by element.
    const bool same = d.a.type == d.b.type;
    desc.spec = {{0, t.threads()}, {1, t.bm}, {2, t.bn}, {3, t.bk}, {4, t.tm}, {5, t.tn},
                 {22, same ? vector_loads(d.a, d.batch) : 0u}, {23, same ? vector_loads(d.b, d.batch) : 0u}};
    bm = t.bm;
    bn = t.bn;
  }
  desc.spec.insert(desc.spec.end(), types.begin(), types.end());
  desc.spec.push_back({20, d.a.transpose ? 1u : 0u});
  desc.spec.push_back({21, d.b.transpose ? 1u : 0u});
  if (d.conv != ConvPass::None) {
    const ConvGeometry& g = d.geometry;
    desc.spec.insert(desc.spec.end(), {{24, uint32_t(d.conv)}, {30, g.groups}, {31, g.in_channels},
                                       {32, g.out_channels}, {33, g.in_h}, {34, g.in_w}, {35, g.kernel_h},
                                       {36, g.kernel_w}, {37, g.stride_h}, {38, g.stride_w}, {39, g.pad_h},
                                       {40, g.pad_w}, {41, g.dilation_h}, {42, g.dilation_w}, {43, g.out_h()},
                                       {44, g.out_w()}});
  }
  const vk::Pipeline& pipeline = ctx_.pipelines().get(desc);

  GemmAddressArgs args{{d.m,
                      d.n,
                      d.k,
                      d.a.ld,
                      d.b.ld,
                      d.c.ld,
                      d.batch > 1 ? d.a.batch_stride : 0,
                      d.batch > 1 ? d.b.batch_stride : 0,
                      d.batch > 1 ? d.c.batch_stride : 0,
                      d.alpha,
                      d.beta,
                      (d.bias ? 1u : 0u) | (uint32_t(d.activation) << 1)}, 0, 0};
  if (choice.variant == GemmVariant::Cpu) {
    args.a_address = vk::device_address(ctx_, d.a.range);
    args.b_address = vk::device_address(ctx_, d.b.range);
  }
  // fp16 C is written by read-modify-write at edges, so it is always declared read-write.
  const bool reads_c = d.beta != 0.0f || d.c.type == ElemType::F16;
  const vk::Binding bindings[] = {{d.a.range, vk::Access::Read},
                                  {d.b.range, vk::Access::Read},
                                  {d.c.range, reads_c ? vk::Access::ReadWrite : vk::Access::Write},
                                  {d.bias ? *d.bias : d.a.range, vk::Access::Read}};
  rec.dispatch({.pipeline = &pipeline,
                .bindings = bindings,
                .push_constants = &args,
                .groups = {(d.n + bn - 1) / bn, (d.m + bm - 1) / bm, d.batch},
                .label = "gemm." + std::string(gemm_variant_name(choice.variant))});
}

}  // namespace vkgrad::kernels
