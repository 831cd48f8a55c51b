#include "vkgrad/io/glsl_export.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/hash_grid.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <sstream>
#include <variant>

namespace vkgrad::io {
namespace detail {
extern const char* const glsl_activation;
extern const char* const glsl_unary;
extern const char* const glsl_hash_grid;
}  // namespace detail

namespace {

using graph::TensorRole;

[[noreturn]] void unsupported(const std::string& what) {
  throw Error("export_glsl: " + what,
              "export a chain of Fourier features, linear layers and pointwise activations from one float input");
}

// The shortest literal that reads back as exactly this float, with a decimal point or exponent.
std::string literal(float v, const std::string& name) {
  if (!std::isfinite(v)) throw Error("export_glsl: '" + name + "' holds a non-finite value", "export a trained, finite model");
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// shared GLSL without its #include lines (the texts are concatenated in dependency order).
std::string without_includes(const char* text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind("#include", 0) != 0) out += line + '\n';
  return out;
}

const char* unary_code(graph::UnaryFn fn) {
  switch (fn) {
    case graph::UnaryFn::Relu: return "UNARY_RELU";
    case graph::UnaryFn::Gelu: return "UNARY_GELU";
    case graph::UnaryFn::GeluTanh: return "UNARY_GELU_TANH";
    case graph::UnaryFn::Tanh: return "UNARY_TANH";
    case graph::UnaryFn::Sigmoid: return "UNARY_SIGMOID";
    case graph::UnaryFn::Sin: return "UNARY_SIN";
    case graph::UnaryFn::Cos: return "UNARY_COS";
  }
  return "UNARY_IDENTITY";
}

class Writer {
public:
  Writer(const graph::Graph& g, const train::TrainingState& st, const GlslExportOptions& o) : g_(g), st_(st), o_(o) {}

  GlslExport run() {
    const auto& loss = g_.loss();
    if (!loss) unsupported("the graph has no loss to name its predictions");
    uint32_t x = find_input(loss->target);
    GlslExport out;
    out.inputs = uint32_t(g_.tensors()[x].elements());
    width_ = out.inputs;
    for (size_t i = 0; i < g_.nodes().size(); ++i) {
      const auto& n = g_.nodes()[i];
      if (n.inputs.empty() || n.inputs[0] != x)
        unsupported("the graph is not a chain: '" + n.label + "' does not read the previous op's output");
      x = emit(n);
    }
    if (x != loss->pred) unsupported("the chain does not end at the loss's predictions");
    out.outputs = width_;
    out.weight_count = weights_.size();
    out.source = source(out);
    for (float w : weights_) {
      if (o_.fp16) {
        const uint16_t h = kernels::half_bits(w);
        const auto* b = reinterpret_cast<const std::byte*>(&h);
        out.weights.insert(out.weights.end(), b, b + 2);
      } else {
        const auto* b = reinterpret_cast<const std::byte*>(&w);
        out.weights.insert(out.weights.end(), b, b + 4);
      }
    }
    out.weights.resize((out.weights.size() + 3) / 4 * 4, std::byte{0});  // whole 32-bit words
    return out;
  }

private:
  uint32_t find_input(uint32_t target) const {
    std::vector<uint32_t> inputs;
    for (uint32_t t : g_.feeds())
      if (t != target) inputs.push_back(t);
    if (inputs.size() != 1 || g_.tensors()[inputs[0]].role != TensorRole::Input)
      unsupported("the network must have exactly one float input besides the loss target");
    return inputs[0];
  }

  const std::vector<float>& values(uint32_t tensor) const {
    const auto& name = g_.tensors()[tensor].name;
    const auto it = st_.tensors.find(name);
    if (it == st_.tensors.end()) throw Error("export_glsl: the state has no '" + name + "'", "pass the trained model's state");
    if (it->second.values.size() != g_.tensors()[tensor].elements())
      throw Error("export_glsl: '" + name + "' holds " + std::to_string(it->second.values.size()) + " values, the graph " +
                      std::to_string(g_.tensors()[tensor].elements()),
                  "pass the state of this graph's model");
    return it->second.values;
  }

  // Appends a tensor's values to the weights buffer; returns where they start.
  uint64_t place(uint32_t tensor) {
    const auto& v = values(tensor);
    const uint64_t at = weights_.size();
    weights_.insert(weights_.end(), v.begin(), v.end());
    return at;
  }

  // Code that computes the next array from the current one; returns the op's output.
  uint32_t emit(const graph::Node& n) {
    const std::string in = array(cur_), out = array(1 - cur_), p = o_.prefix;
    const uint32_t in_width = width_;
    std::ostringstream c;
    if (std::holds_alternative<graph::attr::Linear>(n.attr)) {
      const auto act = std::get<graph::attr::Linear>(n.attr).activation;
      const uint32_t outs = uint32_t(g_.tensors()[n.inputs[1]].dims[0]);
      const uint64_t w = place(n.inputs[1]);
      const bool bias = n.inputs.size() > 2;
      const uint64_t b = bias ? place(n.inputs[2]) : 0;
      c << "  // " << n.label << ": " << in_width << " -> " << outs << (act == graph::Activation::Relu ? ", ReLU" : "") << "\n"
        << "  for (int o = 0; o < " << outs << "; ++o) {\n"
        << "    float s = " << (bias ? "float(" + p + "_w[" + std::to_string(b) + " + o])" : "0.0") << ";\n"
        << "    for (int i = 0; i < " << in_width << "; ++i) s += float(" << p << "_w[" << w << " + o * " << in_width
        << " + i]) * " << in << "[i];\n"
        << "    " << out << "[o] = " << (act == graph::Activation::Relu ? "activate(s, ACT_RELU)" : "s") << ";\n"
        << "  }\n";
      width_ = outs;
    } else if (std::holds_alternative<graph::attr::Unary>(n.attr)) {
      c << "  // " << n.label << "\n"
        << "  for (int i = 0; i < " << in_width << "; ++i) " << out << "[i] = unary(" << in << "[i], "
        << unary_code(std::get<graph::attr::Unary>(n.attr).fn) << ");\n";
    } else if (std::holds_alternative<graph::attr::FourierFeatures>(n.attr)) {
      const auto& b = values(n.inputs[1]);
      const uint32_t freqs = uint32_t(b.size() / in_width);
      const std::string name = p + "_B" + std::to_string(constants_++);
      consts_ << "const float " << name << "[" << b.size() << "] = float[](";
      for (size_t i = 0; i < b.size(); ++i) consts_ << (i ? ", " : "") << literal(b[i], g_.tensors()[n.inputs[1]].name);
      consts_ << ");\n";
      c << "  // " << n.label << ": " << in_width << " -> " << 2 * freqs << ", [sin(2pi Bx), cos(2pi Bx)]\n"
        << "  for (int f = 0; f < " << freqs << "; ++f) {\n"
        << "    float z = 0.0;\n"
        << "    for (int i = 0; i < " << in_width << "; ++i) z += " << name << "[f * " << in_width << " + i] * " << in << "[i];\n"
        << "    z *= 6.283185307179586;\n"
        << "    " << out << "[f] = unary(z, UNARY_SIN);\n"
        << "    " << out << "[" << freqs << " + f] = unary(z, UNARY_COS);\n"
        << "  }\n";
      width_ = 2 * freqs;
    } else if (std::holds_alternative<graph::attr::HashGrid>(n.attr)) {
      const auto& a = std::get<graph::attr::HashGrid>(n.attr);
      const auto levels = kernels::hash_grid_levels({in_width, a.levels, a.features, a.log2_table_size, a.base_resolution, a.growth});
      const uint64_t table = place(n.inputs[1]);
      const std::string name = p + "_levels" + std::to_string(constants_++);
      consts_ << "const uvec4 " << name << "[" << levels.size() << "] = uvec4[](";
      for (size_t l = 0; l < levels.size(); ++l)
        consts_ << (l ? ", " : "") << "uvec4(" << levels[l].resolution << "u, " << levels[l].offset << "u, "
                << levels[l].entries << "u, " << levels[l].dense << "u)";
      consts_ << ");\n";
      uses_hash_grid_ = true;
      c << "  // " << n.label << ": " << in_width << " -> " << a.levels * a.features << ", " << a.levels << " levels of "
        << a.features << " features\n"
        << "  {\n"
        << "    float coords[3] = float[3](0.0, 0.0, 0.0);\n"
        << "    for (int d = 0; d < " << in_width << "; ++d) coords[d] = " << in << "[d];\n"
        << "    for (int l = 0; l < " << a.levels << "; ++l) {\n"
        << "      for (int f = 0; f < " << a.features << "; ++f) " << out << "[l * " << a.features << " + f] = 0.0;\n"
        << "      for (uint c = 0u; c < " << (1u << in_width) << "u; ++c) {\n"
        << "        float w;\n"
        << "        const uint e = hash_grid_entry(coords, " << in_width << "u, " << name << "[l], c, w);\n"
        << "        for (int f = 0; f < " << a.features << "; ++f)\n"
        << "          " << out << "[l * " << a.features << " + f] += w * float(" << p << "_w[" << table << "u + e * "
        << a.features << "u + uint(f)]);\n"
        << "      }\n"
        << "    }\n"
        << "  }\n";
      width_ = a.levels * a.features;
    } else {
      unsupported("'" + n.label + "' is not an op the GLSL export writes");
    }
    max_width_ = std::max({max_width_, in_width, width_});
    body_ += c.str();
    cur_ = 1 - cur_;
    return n.outputs[0];
  }

  std::string array(int i) const { return o_.prefix + (i ? "_b" : "_a"); }

  std::string source(const GlslExport& e) const {
    const std::string p = o_.prefix, P = upper(p);
    std::ostringstream s;
    s << "// " << p << ".glsl: a vkgrad network, " << e.inputs << " -> " << e.outputs << ", exported with its weights ("
      << e.weight_count << (o_.fp16 ? " FP16" : " FP32") << " values) in a storage buffer.\n"
      << "// Define " << P << "_SET and " << P << "_BINDING (default 0 and 0) for where the host binds it"
      << (o_.fp16 ? "; enable GL_EXT_shader_16bit_storage" : "") << ".\n"
      << "#ifndef " << P << "_GLSL\n#define " << P << "_GLSL\n\n"
      << "#ifndef " << P << "_SET\n#define " << P << "_SET 0\n#endif\n"
      << "#ifndef " << P << "_BINDING\n#define " << P << "_BINDING 0\n#endif\n\n"
      << without_includes(detail::glsl_activation) << "\n"
      << without_includes(detail::glsl_unary) << "\n"
      << (uses_hash_grid_ ? without_includes(detail::glsl_hash_grid) + "\n" : std::string())
      << "layout(std430, set = " << P << "_SET, binding = " << P << "_BINDING) readonly buffer " << p << "_weights {\n"
      << "  " << (o_.fp16 ? "float16_t" : "float") << " " << p << "_w[];\n};\n\n"
      << "const int " << P << "_IN = " << e.inputs << ";\n"
      << "const int " << P << "_OUT = " << e.outputs << ";\n"
      << consts_.str() << "\n"
      << "void " << p << "_eval(in float x[" << P << "_IN], out float y[" << P << "_OUT]) {\n"
      << "  float " << array(0) << "[" << max_width_ << "], " << array(1) << "[" << max_width_ << "];\n"
      << "  for (int i = 0; i < " << P << "_IN; ++i) " << array(0) << "[i] = x[i];\n"
      << body_
      << "  for (int i = 0; i < " << P << "_OUT; ++i) y[i] = " << array(cur_) << "[i];\n"
      << "}\n\n#endif\n";
    return s.str();
  }

  static std::string upper(std::string s) {
    for (char& ch : s) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    return s;
  }

  const graph::Graph& g_;
  const train::TrainingState& st_;
  const GlslExportOptions& o_;
  std::vector<float> weights_;
  std::string body_;
  std::ostringstream consts_;
  uint32_t width_ = 0, max_width_ = 1, constants_ = 0;
  bool uses_hash_grid_ = false;
  int cur_ = 0;
};

}  // namespace

GlslExport export_glsl(const graph::Graph& graph, const train::TrainingState& state, const GlslExportOptions& options) {
  if (options.prefix.empty() || !(std::isalpha(static_cast<unsigned char>(options.prefix[0])) || options.prefix[0] == '_') ||
      !std::all_of(options.prefix.begin(), options.prefix.end(),
                   [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; }))
    throw Error("export_glsl: prefix '" + options.prefix + "' is not a GLSL identifier", "use letters, digits and _");
  return Writer(graph, state, options).run();
}

}  // namespace vkgrad::io
