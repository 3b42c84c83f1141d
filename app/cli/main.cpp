// meshwork-cli: the planner (and, where built, the launcher and run store) without the GUI.
// Parses the command and hands its arguments to the command; turns bad input into one line
// on stderr and exit code 2. Nothing here computes.
#include "app/cli/CliSetup.h"
#include "app/cli/PlanCommands.h"
#include "core/spec/SpecError.h"

#if defined(HAVE_MESHWORK_REMOTE) && __has_include("app/cli/RunCommand.h")
#include "app/cli/RunCommand.h"
#define MESHWORK_CLI_RUN 1
#endif
#if defined(HAVE_MESHWORK_RUNS) && __has_include("app/cli/RunsCommand.h")
#include "app/cli/RunsCommand.h"
#define MESHWORK_CLI_RUNS 1
#endif

#include <exception>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#ifndef MESHWORK_VERSION
#define MESHWORK_VERSION "unknown"
#endif

using namespace meshwork;
using namespace meshwork::cli;

namespace {

using CommandFn = std::function<int(const std::vector<std::string>&, std::ostream&, std::ostream&)>;

struct Command {
    const char* name;
    const char* summary;
    CommandFn run;      // empty: not built into this binary
    const char* missing; // why, when not built
};

int notBuilt(const Command& c, std::ostream& err)
{
    err << "meshwork-cli " << c.name << ": " << c.missing << "\n";
    return kBadInput;
}

const std::vector<Command>& commands()
{
    static const std::vector<Command> list = {
        {"plan", "estimate memory, step time and throughput of one plan", runPlanCommand, ""},
        {"search", "rank every valid plan for a model and cluster, Pareto front marked", runSearchCommand, ""},
        {"export", "write a plan for Megatron-LM, DeepSpeed, Colossal-AI or torchtitan", runExportCommand, ""},
        {"models", "list the model catalog", runModelsCommand, ""},
        {"gpus", "list the GPU catalog", runGpusCommand, ""},
#ifdef MESHWORK_CLI_RUN
        {"run", "train on this machine: N local ranks of meshwork-train", runRunCommand, ""},
#else
        {"run", "train on this machine: N local ranks of meshwork-train", {},
         "the launcher is not built into this meshwork-cli (it needs Qt 6 and libssh: configure with MESHWORK_GUI=ON)"},
#endif
#ifdef MESHWORK_CLI_RUNS
        {"runs", "list, show and compare stored runs", runRunsCommand, ""},
#else
        {"runs", "list, show and compare stored runs", {},
         "the run store is not built into this meshwork-cli (it needs SQLite and Qt 6: configure with MESHWORK_GUI=ON)"},
#endif
    };
    return list;
}

const Command* findCommand(const std::string& name)
{
    for (const auto& c : commands())
        if (name == c.name) return &c;
    return nullptr;
}

std::string programHelp()
{
    std::string h = "meshwork-cli " MESHWORK_VERSION ": plan and run distributed LLM training from the command line.\n\n"
                    "usage: meshwork-cli <command> [options]\n\nCommands:\n";
    for (const auto& c : commands()) {
        std::string name = c.name;
        name.resize(10, ' ');
        h += "  " + name + c.summary + (c.run ? "" : " (not built)") + "\n";
    }
    h += "\nRun `meshwork-cli <command> --help` for its options; option names are the same in\n"
         "meshwork-train, plan files and the workbench.\n\n"
         "Exit codes:\n"
         "  0  success\n"
         "  1  the plan is invalid (every violated constraint is listed with its numbers),\n"
         "     no plan fits (search), or the run failed (run)\n"
         "  2  bad input: unknown command or option, bad value, unknown model or GPU,\n"
         "     unreadable or malformed config.json, unwritable --out\n"
         "  3  internal error (please report it)\n";
    return h;
}

int dispatch(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)
{
    if (args.empty()) {
        err << programHelp();
        return kBadInput;
    }
    const std::string& first = args.front();
    if (first == "--help" || first == "-h" || first == "help") {
        if (first == "help" && args.size() > 1) {
            const Command* c = findCommand(args[1]);
            if (!c) throw UsageError("help: unknown command \"" + args[1] + "\"; see meshwork-cli --help");
            if (!c->run) return notBuilt(*c, err);
            return c->run({"--help"}, out, err);
        }
        out << programHelp();
        return kOk;
    }
    if (first == "--version" || first == "-V") {
        out << "meshwork-cli " MESHWORK_VERSION "\n";
        return kOk;
    }
    const Command* c = findCommand(first);
    if (!c) {
        std::vector<std::string> names;
        for (const auto& cmd : commands()) names.push_back(cmd.name);
        const std::string guess = nearest(first, names);
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        if (first.compare(0, 2, "--") == 0)
            throw UsageError("expected a command before the option " + first + " (one of: " + list
                             + "); see meshwork-cli --help");
        throw UsageError("unknown command \"" + first + "\"" + (guess.empty() ? "" : " (did you mean " + guess + "?)")
                         + "; commands: " + list + "; see meshwork-cli --help");
    }
    if (!c->run) return notBuilt(*c, err);
    return c->run(std::vector<std::string>(args.begin() + 1, args.end()), out, err);
}

} // namespace

int main(int argc, char** argv)
{
    const std::vector<std::string> args(argv + 1, argv + argc);
    // The command name for messages: "meshwork-cli plan: ...".
    const std::string who = "meshwork-cli" + (argc > 1 && findCommand(argv[1]) ? std::string(" ") + argv[1] : "");
    try {
        return dispatch(args, std::cout, std::cerr);
    } catch (const UsageError& e) {
        std::cerr << who << ": " << e.what() << "\n";
        return kBadInput;
    } catch (const SpecError& e) {
        std::cerr << who << ": " << e.what() << "\n";
        return kBadInput;
    } catch (const std::exception& e) {
        std::cerr << who << ": internal error: " << e.what() << "\n";
        return kInternalError;
    }
}
