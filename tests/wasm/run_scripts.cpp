// The core's transcript scripts, run inside the wasm build under Node: the same engine bytes the
// browser will run, checked against the same scripts as the native build.
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "script_player.h"

int main() {
  const std::string folder = "/scripts";
  std::vector<std::string> names;
  if (DIR* dir = opendir(folder.c_str())) {
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name.size() > 5 && name.substr(name.size() - 5) == ".smtp") names.push_back(name);
    }
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  int passed = 0, failed = 0;
  for (const auto& name : names) {
    std::ifstream file(folder + "/" + name, std::ios::binary);
    std::stringstream content;
    content << file.rdbuf();
    for (bool bytewise : {false, true}) {
      const auto result = smtpc::testing::runScript(content.str(), bytewise);
      if (result.passed) {
        ++passed;
      } else {
        ++failed;
        std::printf("FAIL %s (%s): %s\n%s\n", name.c_str(), bytewise ? "bytewise" : "whole", result.failure.c_str(),
                    result.transcript.c_str());
      }
    }
  }
  if (names.size() < 80) {
    std::printf("FAIL only %zu scripts found in %s\n", names.size(), folder.c_str());
    ++failed;
  }
  std::printf("wasm scripts: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
