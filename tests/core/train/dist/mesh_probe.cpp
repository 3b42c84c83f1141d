// A rank of tst_mesh: builds the Mesh of `--tp T --dp D --pp P --cp C` from torchrun's variables,
// all-reduces its global rank over every axis group and prints one line per axis:
//   "<axis> <sum> <ranks of its group>"; with --hang-rank R, rank R skips the collectives so the
// others must fail with a comm error within --collective-timeout.
#include "core/spec/Options.h"
#include "core/train/TrainError.h"
#include "core/train/dist/DistOptions.h"
#include "core/train/dist/Mesh.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <thread>

using namespace meshwork;

int main(int argc, char** argv)
{
    std::vector<OptionSpec> known = planOptions();
    known.insert(known.end(), distOptions().begin(), distOptions().end());
    known.push_back({"hang-rank", "R", ""});
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        const ParsedArgs a = parseArgs(args, known);
        Plan plan;
        applyPlanOptions(a, plan);
        const DistConfig dist = parseDistConfig(a);
        const int hang = a.has("hang-rank") ? std::stoi(a.value("hang-rank")) : -1;
        Mesh mesh(plan, dist, CommDevice::Cpu);
        if (dist.rank == hang) {
            std::this_thread::sleep_for(std::chrono::duration<double>(dist.collectiveTimeoutS * 3));
            return 0;
        }
        auto report = [&](const char* name, CommGroup& g) {
            at::Tensor t = at::full({1}, static_cast<float>(dist.rank));
            if (!g.trivial()) {
                std::vector<at::Tensor> v{t};
                mesh.wait(g.backend->allreduce(v), g, "probe all-reduce");
            }
            std::string ranks;
            for (int r : g.ranks) ranks += " " + std::to_string(r);
            std::printf("%s %d%s\n", name, static_cast<int>(t.item<float>()), ranks.c_str());
        };
        for (Axis ax : {Axis::Tp, Axis::Cp, Axis::Dp, Axis::Pp}) report(toString(ax), mesh.group(ax));
        report("zero", mesh.zeroGroup());
        report("world", mesh.world());
        std::fflush(stdout);
        return 0;
    } catch (const TrainError& e) {
        std::printf("error %s: %s\n", toString(e.kind()), e.what());
        return e.kind() == TrainErrorKind::Config ? 2 : 1;
    } catch (const std::exception& e) {
        std::printf("error other: %s\n", e.what());
        return 1;
    }
}
