// A short char_transformer run on a small generated text, with the validation layer on: the
// validation loss falls below a uniform guess, the JSON summary is complete, the run folder has
// its files, --resume continues from the checkpoint, and the exported state_dict has the names,
// shapes and dtypes of the PyTorch twin (include/vkgrad/graph/gpt.hpp), read by Python.
#include "program_run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/wait.h>

#ifndef CHAR_TRANSFORMER_BIN
#error "CHAR_TRANSFORMER_BIN must name the demo program"
#endif

namespace {

namespace fs = std::filesystem;
using vkgrad::test::slurp;

int run(const std::string& args, const fs::path& dir, const std::string& tag) {
  return vkgrad::test::run_program(CHAR_TRANSFORMER_BIN, args, dir, tag);
}

// 20,000 bytes of a few repeated phrases: learnable in a few dozen steps.
void write_text(const fs::path& path) {
  const char* phrases[] = {"the cat sat on the mat. ", "a dog ran in the fog. ", "to be or not to be. "};
  std::mt19937 rng(5);
  std::ofstream out(path);
  for (size_t n = 0; n < 20000;) {
    const std::string p = phrases[rng() % 3];
    out << p;
    n += p.size();
  }
}

TEST(CharTransformerDemo, ShortRunLearnsResumesAndExports) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-ct-" + std::to_string(rd()));
  fs::create_directories(dir);
  write_text(dir / "text.txt");
  const fs::path out = dir / "run", exported = dir / "gpt.safetensors";
  const std::string common = "--text " + (dir / "text.txt").string() +
                             " --layers 1 --dim 16 --heads 2 --context 16 --batch 16 --eval-every 20 "
                             "--sample-bytes 20 --out " + out.string();
  ASSERT_EQ(run(common + " --steps 40 --json --export-state-dict " + exported.string(), dir, "first"), 0)
      << slurp(dir / "first.err");
  const auto summary = nlohmann::json::parse(slurp(dir / "first.json"));
  for (const char* key : {"val_loss", "final_val_loss", "baselines", "steps_per_s", "tokens_per_s", "skipped_steps",
                          "final_loss_scale", "sample"})
    EXPECT_TRUE(summary.contains(key)) << key;
  const auto& evals = summary["val_loss"];
  ASSERT_EQ(evals.size(), 2u);
  EXPECT_EQ(evals[1]["step"], 40);
  // 17 distinct bytes: a uniform guess costs ln 17 = 2.83 nats; the phrases are far more predictable.
  EXPECT_LT(summary["final_val_loss"].get<double>(), std::log(17.0) - 0.5) << evals.dump();
  EXPECT_EQ(summary["sample"].get<std::string>().size(), 20u);
  for (const char* f : {"metrics.jsonl", "checkpoint.safetensors", "sample.txt", "loss.png"})
    EXPECT_TRUE(fs::exists(out / f)) << f;

  ASSERT_EQ(run(common + " --steps 60 --json --resume " + (out / "checkpoint.safetensors").string(), dir, "resume"),
            0)
      << slurp(dir / "resume.err");
  const auto resumed = nlohmann::json::parse(slurp(dir / "resume.json"));
  ASSERT_EQ(resumed["val_loss"].size(), 1u);  // steps 41-60: one evaluation, at 60
  EXPECT_EQ(resumed["val_loss"][0]["step"], 60);

  const std::string script =
      "from safetensors.numpy import load_file\n"
      "d = load_file('" + exported.string() + "')\n"
      "want = {'transformer.wte.weight': (17, 16), 'transformer.wpe.weight': (16, 16),\n"
      "        'transformer.ln_f.weight': (16,), 'transformer.ln_f.bias': (16,),\n"
      "        'lm_head.weight': (17, 16), 'lm_head.bias': (17,)}\n"
      "h = 'transformer.h.0.'\n"
      "want.update({h + 'ln_1.weight': (16,), h + 'ln_1.bias': (16,), h + 'ln_2.weight': (16,), h + 'ln_2.bias': (16,),\n"
      "             h + 'attn.c_attn.weight': (48, 16), h + 'attn.c_attn.bias': (48,),\n"
      "             h + 'attn.c_proj.weight': (16, 16), h + 'attn.c_proj.bias': (16,),\n"
      "             h + 'mlp.c_fc.weight': (64, 16), h + 'mlp.c_fc.bias': (64,),\n"
      "             h + 'mlp.c_proj.weight': (16, 64), h + 'mlp.c_proj.bias': (16,)})\n"
      "got = {k: v.shape for k, v in d.items()}\n"
      "assert got == want, got\n"
      "assert all(str(v.dtype) == 'float32' for v in d.values())\n";
  std::ofstream(dir / "check.py") << script;
  EXPECT_EQ(std::system(("python3 " + (dir / "check.py").string()).c_str()), 0);
  fs::remove_all(dir);
}

TEST(CharTransformerDemo, AMissingCorpusIsAClearError) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-ct-" + std::to_string(rd()));
  fs::create_directories(dir);
  const int rc = run("--fortunes " + (dir / "nothing-here").string() + " --steps 1", dir, "bad");
  ASSERT_NE(rc, -1);
  EXPECT_EQ(WEXITSTATUS(rc), 1);
  const std::string err = slurp(dir / "bad.err");
  EXPECT_NE(err.find("no fortune files"), std::string::npos) << err;
  EXPECT_NE(err.find("--text"), std::string::npos) << err;
  fs::remove_all(dir);
}

}  // namespace
