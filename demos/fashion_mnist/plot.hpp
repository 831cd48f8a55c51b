// The run's loss and accuracy curves as a PNG, drawn by gnuplot (Debian's gnuplot-nox).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

struct EpochPoint {
  double epoch, train_loss, test_loss, test_accuracy;
};

// Writes curve.dat and curve.gp into `dir` and runs gnuplot; false when gnuplot fails.
bool plot_curve(const std::vector<EpochPoint>& points, const std::filesystem::path& dir,
                const std::filesystem::path& png, const std::string& title);
