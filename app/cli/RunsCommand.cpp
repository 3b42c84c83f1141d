// Parses `runs` arguments, asks the RunStore, prints tables and CSV. No logic of its own.
#include "app/cli/RunsCommand.h"

#include "app/cli/TextTable.h"
#include "core/runs/RunStore.h"
#include "core/spec/Options.h"
#include "core/spec/SpecError.h"

#include <algorithm>
#include <ctime>
#include <functional>
#include <filesystem>
#include <optional>
#include <stdexcept>

namespace meshwork {

namespace {

using cli::TextTable;
using Align = TextTable::Align;

// Bad input: exit code 2 with a message that says what to fix.
class RunsUsageError : public std::runtime_error {
public:
    explicit RunsUsageError(const std::string& m) : std::runtime_error(m) {}
};

const char* kHelp =
    "usage: meshwork-cli runs <sub-command> [--db FILE]\n"
    "\n"
    "  list [--status S] [--tag TAG] [--search TEXT]   the stored runs, newest first\n"
    "  show ID                                          one run: plan, results against the estimate\n"
    "  export ID [--csv FILE]                           its series as CSV (to stdout without --csv)\n"
    "  compare ID ID ... [--all]                        options that differ (--all: every option) and results\n"
    "  import FILE...                                   store runs from events.jsonl files (re-import replaces)\n"
    "\n"
    "ID may be any unique beginning of a run id. --db defaults to $XDG_DATA_HOME/meshwork/runs.sqlite\n"
    "(~/.local/share/meshwork/runs.sqlite). Status is running, completed, failed, cancelled or interrupted.\n";

const std::vector<OptionSpec>& runsOptions()
{
    static const std::vector<OptionSpec> o = {
        {"db", "FILE", "run database"},
        {"status", "S", "list: only runs with this status"},
        {"tag", "TAG", "list: only runs with this tag"},
        {"search", "TEXT", "list: text in the id, name, model, notes or tags"},
        {"csv", "FILE", "export: write the CSV here"},
        {"all", "", "compare: every option, not only those that differ"},
        {"help", "", "this help"},
    };
    return o;
}

std::string opt(const std::optional<double>& v, int decimals)
{
    return v ? cli::fixed(*v, decimals) : "-";
}

std::string signedPct(const std::optional<double>& v)
{
    if (!v) return "-";
    return (*v > 0 ? "+" : "") + cli::fixed(*v, 1) + "%";
}

std::string utcTime(int64_t unixSeconds)
{
    const std::time_t t = static_cast<std::time_t>(unixSeconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

std::string joined(const std::vector<std::string>& items, const char* sep = ",")
{
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : sep) + i;
    return s;
}

std::string resolveId(RunStore& store, const std::string& given)
{
    const std::vector<std::string> ids = store.runIdsMatching(given);
    if (ids.empty())
        throw RunsUsageError("no run matches \"" + given + "\" in " + store.path() + "; see `meshwork-cli runs list`");
    if (ids.size() > 1) {
        std::vector<std::string> shown(ids.begin(), ids.begin() + std::min<size_t>(ids.size(), 5));
        throw RunsUsageError("\"" + given + "\" matches " + std::to_string(ids.size()) + " runs (" + joined(shown, ", ")
                             + (ids.size() > 5 ? ", ..." : "") + "): give more of the id");
    }
    return ids.front();
}

void needArgs(const ParsedArgs& a, size_t count, const std::string& usage)
{
    if (a.positional.size() < count + 1) throw RunsUsageError("missing argument: usage: meshwork-cli runs " + usage);
}

void noExtraArgs(const ParsedArgs& a, size_t count, const std::string& usage)
{
    if (a.positional.size() > count + 1)
        throw RunsUsageError("unexpected argument \"" + a.positional[count + 1] + "\": usage: meshwork-cli runs " + usage);
}

int listRuns(RunStore& store, const ParsedArgs& a, std::ostream& out)
{
    noExtraArgs(a, 0, "list [--status S] [--tag TAG] [--search TEXT]");
    RunFilter filter;
    filter.text = a.value("search");
    filter.tag = a.value("tag");
    if (a.has("status")) {
        filter.status = parseRunStatus(a.value("status"));
        if (!filter.status)
            throw RunsUsageError("--status: expected running, completed, failed, cancelled or interrupted, got \""
                                 + a.value("status") + "\"");
    }
    const std::vector<RunInfo> runs = store.listRuns(filter);
    if (runs.empty()) {
        out << "no runs" << (filter.text.empty() && filter.tag.empty() && !filter.status ? "" : " match") << " in "
            << store.path() << "\n";
        return 0;
    }
    TextTable t({{"ID", Align::Left}, {"NAME", Align::Left}, {"STATUS", Align::Left}, {"CREATED (UTC)", Align::Left},
                 {"MODEL", Align::Left}, {"STEPS"}, {"FINAL LOSS"}, {"BEST LOSS"}, {"TAGS", Align::Left}});
    for (const RunInfo& r : runs)
        t.addRow({r.id, r.name, toString(r.status), utcTime(r.created), r.model.empty() ? "-" : r.model,
                  r.steps ? cli::withThousands(double(*r.steps)) : "-", opt(r.finalLoss, 4), opt(r.bestLoss, 4),
                  joined(r.tags)});
    out << t.render();
    return 0;
}

int showRun(RunStore& store, const ParsedArgs& a, std::ostream& out)
{
    needArgs(a, 1, "show ID");
    noExtraArgs(a, 1, "show ID");
    const std::string id = resolveId(store, a.positional[1]);
    const RunInfo r = *store.runById(id);
    const RunSummary s = store.summary(id);
    out << "run      " << r.id << "\n"
        << "name     " << r.name << "\n"
        << "status   " << toString(r.status) << "\n"
        << "created  " << utcTime(r.created) << " UTC\n"
        << "model    " << (r.model.empty() ? "-" : r.model) << "\n"
        << "world    " << (r.worldSize ? std::to_string(*r.worldSize) + (*r.worldSize == 1 ? " rank" : " ranks") : "-")
        << (r.host.empty() ? "" : " on " + r.host) << "\n"
        << "trainer  " << (r.trainer.empty() ? "-" : r.trainer) << "\n";
    if (!r.tags.empty()) out << "tags     " << joined(r.tags, ", ") << "\n";
    if (!r.notes.empty()) out << "notes    " << r.notes << "\n";
    std::string plan;
    for (const auto& [key, value] : flattenPlan(r.plan)) {
        const std::string item = key + "=" + value;
        // Wrapped under its label: a trainer's plan has some forty options.
        const size_t lineStart = plan.rfind('\n') == std::string::npos ? 0 : plan.rfind('\n') + 1;
        if (!plan.empty()) plan += plan.size() - lineStart + item.size() > 100 ? "\n         " : " ";
        plan += item;
    }
    out << "plan     " << (plan.empty() ? "-" : plan) << "\n\n";

    TextTable t({{"", Align::Left}, {"measured"}, {"predicted"}, {"estimate error"}});
    t.addRow({"steps", s.lastStep ? cli::withThousands(double(*s.lastStep)) : "-", "", ""});
    t.addRow({"final loss", opt(s.finalLoss, 4), "", ""});
    t.addRow({"best loss", s.bestLoss ? opt(s.bestLoss, 4) + " @" + std::to_string(*s.bestLossStep) : "-", "", ""});
    t.addRow({"final val loss", opt(s.finalValLoss, 4), "", ""});
    t.addRow({"tokens/s", opt(s.meanTokensPerS, 0), opt(s.predicted.tokensPerS, 0), signedPct(s.tokensPerSErrorPct)});
    t.addRow({"TFLOPS/GPU", opt(s.meanTflops, 1), opt(s.predicted.tflops, 1), signedPct(s.tflopsErrorPct)});
    t.addRow({"MFU", s.meanMfu ? cli::percent(*s.meanMfu) : "-", "", ""});
    t.addRow({"step time (ms)", opt(s.meanStepMs, 1), "", ""});
    if (s.meanHostWaitMs) t.addRow({"host wait (ms)", opt(s.meanHostWaitMs, 2), "", ""});
    t.addRow({"peak memory (GiB)", opt(s.peakMemGib, 2), opt(s.predicted.memGib, 2), signedPct(s.memErrorPct)});
    out << t.render();
    out << "(means leave out the first step when there are three or more; estimate error is\n"
           " (predicted - measured) / measured)\n";
    if (s.meanHostWaitMs && s.meanStepMs && *s.meanHostWaitMs < 0.02 * *s.meanStepMs)
        out << "launch-bound: the host waited " << opt(s.meanHostWaitMs, 2) << " ms of a " << opt(s.meanStepMs, 1)
            << " ms step for the GPUs, so they waited for the host; fewer, larger kernels help (a larger\n"
               " micro-batch, less tensor parallelism)\n";

    std::vector<StoredEvent> notable;
    for (StoredEvent& e : store.events(id))
        if (e.type == "error" || e.type == "checkpoint") notable.push_back(std::move(e));
    if (!notable.empty()) {
        out << "\n";
        TextTable ev({{"t (s)"}, {"event", Align::Left}, {"details", Align::Left}});
        for (const StoredEvent& e : notable) {
            const auto j = Json::parse(e.json);
            std::string details;
            if (j && e.type == "error") {
                const Json* kind = j->find("kind");
                const Json* message = j->find("message");
                details = (kind && kind->isString() ? kind->asString() + ": " : "")
                    + (message && message->isString() ? message->asString() : "");
            } else if (j) {
                const Json* step = j->find("step");
                const Json* path = j->find("path");
                details = (step ? "step " + step->dump() + " " : "") + (path && path->isString() ? path->asString() : "");
            }
            ev.addRow({cli::fixed(e.t, 1), e.type, details});
        }
        out << ev.render();
    }
    return 0;
}

int exportRun(RunStore& store, const ParsedArgs& a, std::ostream& out)
{
    needArgs(a, 1, "export ID [--csv FILE]");
    noExtraArgs(a, 1, "export ID [--csv FILE]");
    const std::string id = resolveId(store, a.positional[1]);
    if (!a.has("csv")) {
        store.exportSeriesCsv(id, out);
        return 0;
    }
    const std::string file = a.value("csv");
    if (file.empty()) throw RunsUsageError("--csv needs a file name");
    const auto folder = std::filesystem::path(file).parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder))
        throw RunsUsageError("--csv " + file + ": the folder " + folder.string() + " does not exist; create it first");
    store.exportSeriesCsv(id, file);
    out << "wrote " << file << "\n";
    return 0;
}

int compareRuns(RunStore& store, const ParsedArgs& a, std::ostream& out)
{
    const std::string usage = "compare ID ID ... [--all]";
    needArgs(a, 2, usage);
    std::vector<std::string> ids;
    for (size_t i = 1; i < a.positional.size(); ++i) ids.push_back(resolveId(store, a.positional[i]));
    const ConfigDiff diff = store.configDiff(ids, !a.has("all"));

    std::vector<TextTable::Column> cols = {{"", Align::Left}};
    for (const std::string& id : ids) cols.push_back({id, Align::Right});
    TextTable t(cols);
    for (const ConfigDiff::Row& row : diff.rows) {
        std::vector<std::string> cells = {row.option};
        for (const std::string& v : row.values) cells.push_back(v.empty() ? "-" : v);
        t.addRow(cells);
    }
    if (diff.rows.empty()) {
        out << "the runs have the same options\n";
    } else {
        out << (a.has("all") ? "options:\n" : "options that differ (--all shows every option):\n") << t.render();
    }

    TextTable res(cols);
    std::vector<RunSummary> sums;
    std::vector<RunStatus> statuses;
    for (const std::string& id : ids) {
        sums.push_back(store.summary(id));
        statuses.push_back(store.runById(id)->status);
    }
    auto row = [&](const std::string& name, const std::function<std::string(size_t)>& cell) {
        std::vector<std::string> cells = {name};
        for (size_t i = 0; i < ids.size(); ++i) cells.push_back(cell(i));
        res.addRow(cells);
    };
    row("status", [&](size_t i) { return std::string(toString(statuses[i])); });
    row("steps", [&](size_t i) { return sums[i].lastStep ? cli::withThousands(double(*sums[i].lastStep)) : "-"; });
    row("final loss", [&](size_t i) { return opt(sums[i].finalLoss, 4); });
    row("best loss", [&](size_t i) { return opt(sums[i].bestLoss, 4); });
    row("tokens/s", [&](size_t i) { return opt(sums[i].meanTokensPerS, 0); });
    row("TFLOPS/GPU", [&](size_t i) { return opt(sums[i].meanTflops, 1); });
    row("MFU", [&](size_t i) { return sums[i].meanMfu ? cli::percent(*sums[i].meanMfu) : "-"; });
    row("peak GiB", [&](size_t i) { return opt(sums[i].peakMemGib, 2); });
    row("tokens/s vs estimate", [&](size_t i) { return signedPct(sums[i].tokensPerSErrorPct); });
    out << "\nresults:\n" << res.render();
    return 0;
}

int importFiles(RunStore& store, const ParsedArgs& a, std::ostream& out, std::ostream& err)
{
    needArgs(a, 1, "import FILE...");
    for (size_t i = 1; i < a.positional.size(); ++i) {
        const std::string& file = a.positional[i];
        if (!std::filesystem::is_regular_file(file))
            throw RunsUsageError("import: " + file + " is not a file; give the path of an events.jsonl");
    }
    for (size_t i = 1; i < a.positional.size(); ++i) {
        const ImportResult r = store.importEventsFile(a.positional[i]);
        out << "imported " << r.runId << " from " << a.positional[i] << ": " << r.events << " events";
        if (r.lines.skipped() > 0) {
            std::vector<std::string> why;
            if (r.lines.invalid) why.push_back(std::to_string(r.lines.invalid) + " malformed");
            if (r.lines.newerVersion) why.push_back(std::to_string(r.lines.newerVersion) + " of a newer protocol");
            if (r.lines.truncated) why.push_back(std::to_string(r.lines.truncated) + " cut short");
            out << ", " << r.lines.skipped() << (r.lines.skipped() == 1 ? " line" : " lines") << " skipped ("
                << joined(why, ", ") << ")";
        }
        out << "\n";
        for (const std::string& w : r.warnings) err << "  " << a.positional[i] << ": " << w << "\n";
    }
    return 0;
}

} // namespace

int runRunsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)
{
    try {
        const ParsedArgs a = parseArgs(args, runsOptions());
        if (a.has("help") || (!a.positional.empty() && a.positional[0] == "help")) {
            out << kHelp;
            return 0;
        }
        if (a.positional.empty()) throw RunsUsageError("which sub-command? list, show, export, compare or import");
        const std::string& sub = a.positional[0];
        static const std::vector<std::string> subs = {"list", "show", "export", "compare", "import"};
        if (std::find(subs.begin(), subs.end(), sub) == subs.end())
            throw RunsUsageError("unknown sub-command \"" + sub + "\"; use list, show, export, compare or import");
        for (const char* o : {"status", "tag", "search"})
            if (a.has(o) && sub != "list") throw RunsUsageError("--" + std::string(o) + " belongs to `runs list`");
        if (a.has("csv") && sub != "export") throw RunsUsageError("--csv belongs to `runs export`");
        if (a.has("all") && sub != "compare") throw RunsUsageError("--all belongs to `runs compare`");

        RunStore::Options options;
        const bool explicitDb = a.has("db");
        const std::string path = explicitDb ? a.value("db") : defaultRunStorePath();
        if (explicitDb && path.empty()) throw RunsUsageError("--db needs a file name");
        // Reading a --db file that is not there is a typo, not a request for a new database.
        options.create = !explicitDb || sub == "import";
        if (!options.create && !std::filesystem::exists(path))
            throw RunsUsageError("--db " + path + " does not exist; check the path (import creates it)");
        RunStore store(path, options);

        if (sub == "list") return listRuns(store, a, out);
        if (sub == "show") return showRun(store, a, out);
        if (sub == "export") return exportRun(store, a, out);
        if (sub == "compare") return compareRuns(store, a, out);
        return importFiles(store, a, out, err);
    } catch (const RunsUsageError& e) {
        err << "meshwork-cli runs: " << e.what() << "\n";
        return 2;
    } catch (const SpecError& e) { // unknown option, missing value
        err << "meshwork-cli runs: " << e.what() << "\n";
        return 2;
    } catch (const RunStoreError& e) {
        err << "meshwork-cli runs: " << e.what() << "\n";
        return 1;
    }
}

} // namespace meshwork
