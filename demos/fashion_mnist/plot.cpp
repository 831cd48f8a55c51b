#include "plot.hpp"

#include <cstdlib>
#include <fstream>

bool plot_curve(const std::vector<EpochPoint>& points, const std::filesystem::path& dir,
                const std::filesystem::path& png, const std::string& title) {
  const auto dat = dir / "curve.dat", script = dir / "curve.gp";
  {
    std::ofstream d(dat);
    d << "# epoch train_loss test_loss test_accuracy\n";
    for (const auto& p : points) d << p.epoch << ' ' << p.train_loss << ' ' << p.test_loss << ' ' << p.test_accuracy << '\n';
    std::ofstream g(script);
    g << "set terminal pngcairo size 900,500 font 'sans,10'\n"
      << "set output '" << png.string() << "'\n"
      << "set title '" << title << "'\n"
      << "set xlabel 'epoch'\nset ylabel 'loss'\nset y2label 'test accuracy'\n"
      << "set ytics nomirror\nset y2tics\nset y2range [0.5:1]\nset grid\nset key center right\n"
      << "plot '" << dat.string() << "' using 1:2 with linespoints title 'train loss (epoch mean)', "
      << "'' using 1:3 with linespoints title 'test loss', "
      << "'' using 1:4 axes x1y2 with linespoints title 'test accuracy'\n";
  }
  const std::string cmd = "gnuplot '" + script.string() + "' 2>/dev/null";
  return std::system(cmd.c_str()) == 0 && std::filesystem::exists(png);
}
