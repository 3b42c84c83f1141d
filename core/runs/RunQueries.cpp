// RunStore: series, summaries, configuration comparison and CSV export.
#include "core/runs/RunStore.h"

#include "core/runs/Schema.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <ostream>
#include <set>

namespace meshwork {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// What a plan that lacks the option means, for options added after runs were recorded
// (ConfigColumn::absent); null for every other option.
const char* absentMeaning(const std::string& option)
{
    for (const ConfigColumn& c : runConfigColumns())
        if (option == c.name) return c.absent;
    return nullptr;
}

// A CSV field: quoted when it holds a separator, a quote or a line break (RFC 4180).
std::string csvField(const std::string& s)
{
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

struct Aggregate {
    int64_t count = 0;
    double sum = 0;
    double max = 0;
    double first = 0; // value at the first step
};

} // namespace

Series RunStore::series(const std::string& runId, const std::string& name, bool withTokens)
{
    Series s;
    s.name = name;
    // A series has at most one point per step, so the run's last step sizes the vectors:
    // growing them instead copies and first-touches about twice the memory, a tenth of the
    // load of a long series. Room that stays untouched costs no memory; it is given back below.
    size_t expected = 0;
    {
        Statement st = m_db.cached("SELECT steps FROM runs WHERE id = ?1");
        st.bind(1, runId);
        if (st.step() && !st.isNull(0)) expected = size_t(std::clamp<int64_t>(st.int64(0) + 1, 0, int64_t(1) << 26));
    }
    s.step.reserve(expected);
    s.t.reserve(expected);
    s.value.reserve(expected);
    if (withTokens) s.tokens.reserve(expected);
    auto trim = [&] {
        if (s.size() * 2 >= expected) return;
        s.step.shrink_to_fit();
        s.t.shrink_to_fit();
        s.value.shrink_to_fit();
        s.tokens.shrink_to_fit();
    };
    size_t missing = 0; // points whose row does not carry its token count
    {
        // One range scan of the (run_id, name, step) primary key; since schema 3 each row
        // also carries the tokens at its step.
        Statement st = m_db.cached("SELECT step, t, value, tokens FROM metrics WHERE run_id = ?1 AND name = ?2 ORDER BY step");
        st.bind(1, runId).bind(2, name);
        while (st.step()) {
            s.step.push_back(st.int64(0));
            s.t.push_back(st.real(1));
            s.value.push_back(st.real(2));
            if (!withTokens) continue;
            const bool known = !st.isNull(3);
            s.tokens.push_back(known ? st.real(3) : kNaN);
            missing += known ? 0 : 1;
        }
    }
    trim();
    if (!withTokens) return s;
    if (name == "tokens") {
        s.tokens = s.value;
        return s;
    }
    if (missing == 0) return s;
    // Rows written before schema 3, and validation points: the tokens series at the same
    // steps. A few are looked up one by one; many, by a second range scan merged by step
    // (both are sorted), far cheaper than a lookup per point.
    if (missing * 64 < s.size()) {
        Statement st = m_db.cached("SELECT value FROM metrics WHERE run_id = ?1 AND name = 'tokens' AND step = ?2");
        st.bind(1, runId);
        for (size_t i = 0; i < s.size(); ++i) {
            if (!std::isnan(s.tokens[i])) continue;
            st.bind(2, s.step[i]);
            if (st.step()) s.tokens[i] = st.real(0);
            st.reset();
        }
        return s;
    }
    Statement st = m_db.cached("SELECT step, value FROM metrics WHERE run_id = ?1 AND name = 'tokens' ORDER BY step");
    st.bind(1, runId);
    size_t i = 0;
    while (i < s.size() && st.step()) {
        const int64_t step = st.int64(0);
        while (i < s.size() && s.step[i] < step) ++i;
        if (i < s.size() && s.step[i] == step && std::isnan(s.tokens[i])) s.tokens[i] = st.real(1);
    }
    return s;
}

std::vector<std::string> RunStore::seriesNames(const std::string& runId)
{
    // Skip-scan over the primary key: one seek per distinct name instead of reading every
    // point of a long run (SELECT DISTINCT would).
    std::set<std::string> present;
    std::string after;
    for (;;) {
        Statement st = m_db.cached("SELECT name FROM metrics WHERE run_id = ?1 AND name > ?2 ORDER BY name LIMIT 1");
        st.bind(1, runId).bind(2, after);
        if (!st.step()) break;
        after = st.text(0);
        present.insert(after);
    }
    std::vector<std::string> names;
    for (const std::string& known : knownSeriesNames())
        if (present.erase(known)) names.push_back(known);
    names.insert(names.end(), present.begin(), present.end());
    return names;
}

RunSummary RunStore::summary(const std::string& runId)
{
    const std::optional<RunInfo> run = runById(runId);
    if (!run) throw RunStoreError("no run \"" + runId + "\" in " + m_fileName + ": see `meshwork-cli runs list`");

    auto last = [&](const char* name, std::optional<int64_t>* step) -> std::optional<double> {
        Statement st = m_db.cached(
            "SELECT step, value FROM metrics WHERE run_id = ?1 AND name = ?2 ORDER BY step DESC LIMIT 1");
        st.bind(1, runId).bind(2, name);
        if (!st.step()) return std::nullopt;
        if (step) *step = st.int64(0);
        return st.real(1);
    };
    auto aggregate = [&](const char* name) {
        Aggregate a;
        {
            Statement st = m_db.cached(
                "SELECT count(*), total(value), max(value) FROM metrics WHERE run_id = ?1 AND name = ?2");
            st.bind(1, runId).bind(2, name);
            if (st.step()) { a.count = st.int64(0); a.sum = st.real(1); a.max = st.real(2); }
        }
        Statement st = m_db.cached("SELECT value FROM metrics WHERE run_id = ?1 AND name = ?2 ORDER BY step LIMIT 1");
        st.bind(1, runId).bind(2, name);
        if (st.step()) a.first = st.real(0);
        return a;
    };
    auto mean = [&](const char* name) -> std::optional<double> {
        const Aggregate a = aggregate(name);
        if (a.count == 0) return std::nullopt;
        if (a.count >= 3) return (a.sum - a.first) / static_cast<double>(a.count - 1); // drop the warm-up step
        return a.sum / static_cast<double>(a.count);
    };
    auto errorPct = [](std::optional<double> predicted, std::optional<double> measured) -> std::optional<double> {
        if (!predicted || !measured || *measured == 0) return std::nullopt;
        return (*predicted - *measured) / *measured * 100.0;
    };

    RunSummary s;
    s.finalLoss = last("loss", &s.lastStep);
    {
        // min() with a bare column: SQLite returns the step of the row holding the minimum.
        Statement st = m_db.cached(
            "SELECT count(*), min(value), step FROM metrics WHERE run_id = ?1 AND name = 'loss'");
        st.bind(1, runId);
        if (st.step() && st.int64(0) > 0) {
            s.points = st.int64(0);
            s.bestLoss = st.real(1);
            s.bestLossStep = st.int64(2);
        }
    }
    if (!s.lastStep) s.lastStep = run->steps;
    s.finalValLoss = last("val_loss", nullptr);
    s.meanTokensPerS = mean("tokens_per_s");
    s.meanTflops = mean("tflops");
    s.meanMfu = mean("mfu");
    s.meanStepMs = mean("step_ms");
    s.meanHostWaitMs = mean("host_wait_ms");
    if (const Aggregate mem = aggregate("mem_peak_gib"); mem.count > 0) s.peakMemGib = mem.max;
    s.predicted = run->predicted;
    s.tokensPerSErrorPct = errorPct(s.predicted.tokensPerS, s.meanTokensPerS);
    s.tflopsErrorPct = errorPct(s.predicted.tflops, s.meanTflops);
    s.memErrorPct = errorPct(s.predicted.memGib, s.peakMemGib);
    return s;
}

ConfigDiff RunStore::configDiff(const std::vector<std::string>& runIds, bool onlyDifferences)
{
    std::vector<RunInfo> runs;
    std::vector<std::vector<std::pair<std::string, std::string>>> flat;
    for (const std::string& id : runIds) {
        auto run = runById(id);
        if (!run) throw RunStoreError("no run \"" + id + "\" in " + m_fileName + ": see `meshwork-cli runs list`");
        flat.push_back(flattenPlan(run->plan));
        runs.push_back(std::move(*run));
    }
    // Option order: the model and world size, the plan options as the CLI lists them, any
    // other plan keys in the order first met (the trainer nests "model" and "training"
    // objects: "model.layers", "training.lr"), then the trainer version and host.
    std::vector<std::string> options = {"model", "world_size"};
    for (const ConfigColumn& c : runConfigColumns()) options.push_back(c.name);
    for (const auto& f : flat)
        for (const auto& [key, value] : f)
            if (key != "model.name" && std::find(options.begin(), options.end(), key) == options.end())
                options.push_back(key);
    options.push_back("trainer");
    options.push_back("host");

    ConfigDiff diff;
    diff.runIds = runIds;
    for (const std::string& option : options) {
        ConfigDiff::Row row;
        row.option = option;
        bool present = false;
        for (size_t i = 0; i < runs.size(); ++i) {
            const RunInfo& r = runs[i];
            std::string v;
            if (option == "model") v = r.model;
            else if (option == "trainer") v = r.trainer;
            else if (option == "host") v = r.host;
            else {
                auto it = std::find_if(flat[i].begin(), flat[i].end(), [&](const auto& kv) { return kv.first == option; });
                if (it != flat[i].end()) v = it->second;
                else if (option == "world_size" && r.worldSize) v = std::to_string(*r.worldSize);
                else if (const char* absent = absentMeaning(option); absent && !flat[i].empty()) v = absent;
            }
            present = present || !v.empty();
            row.values.push_back(std::move(v));
        }
        if (!present) continue; // an option no run has says nothing
        row.differs = std::any_of(row.values.begin(), row.values.end(),
                                  [&](const std::string& v) { return v != row.values.front(); });
        if (onlyDifferences && !row.differs) continue;
        diff.rows.push_back(std::move(row));
    }
    return diff;
}

void RunStore::exportSeriesCsv(const std::string& runId, std::ostream& out)
{
    if (!runById(runId)) throw RunStoreError("no run \"" + runId + "\" in " + m_fileName + ": see `meshwork-cli runs list`");
    const std::vector<std::string> names = seriesNames(runId);
    // step -> (t, one value per name); std::map keeps steps sorted.
    std::map<int64_t, std::pair<double, std::vector<double>>> rows;
    for (size_t k = 0; k < names.size(); ++k) {
        Statement st = m_db.cached("SELECT step, t, value FROM metrics WHERE run_id = ?1 AND name = ?2 ORDER BY step");
        st.bind(1, runId).bind(2, names[k]);
        auto hint = rows.begin();
        while (st.step()) {
            const int64_t step = st.int64(0);
            hint = rows.try_emplace(hint, step, st.real(1), std::vector<double>(names.size(), kNaN));
            hint->second.second[k] = st.real(2);
        }
    }
    out << "step,t";
    for (const std::string& n : names) out << ',' << csvField(n);
    out << '\n';
    for (const auto& [step, row] : rows) {
        out << step << ',' << formatJsonNumber(row.first);
        for (double v : row.second) out << ',' << (std::isnan(v) ? std::string() : formatJsonNumber(v));
        out << '\n';
    }
}

void RunStore::exportSeriesCsv(const std::string& runId, const std::string& file)
{
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) throw RunStoreError("cannot write " + file + ": check that its folder exists and is writable");
    exportSeriesCsv(runId, out);
    out.close();
    if (!out) throw RunStoreError("writing " + file + " failed (disk full?)");
}

} // namespace meshwork
