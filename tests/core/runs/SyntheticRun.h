// A synthetic event stream as meshwork-train writes it (DESIGN.md protocol v1), with values
// computed from the step so that tests can check what the store gives back.
#pragma once

#include "core/json/Json.h"

#include <cmath>
#include <string>
#include <vector>

namespace meshwork::testing {

struct SyntheticRun {
    std::string runId = "run-a";
    int steps = 50;
    int evalEvery = 10;
    int tp = 1;
    int zero = 1;
    int microBatch = 4;
    bool withEnd = true;
    std::string status = "completed";
    std::string model = "gpt2-small";
    double predictedTokensPerS = 0; // 0: no prediction in run_start
    double hostWaitMs = -1;         // step events' host_wait_ms; negative: not written (older trainers)

    static double loss(int step) { return 4.0 / (1.0 + 0.05 * step) + ((step * 7919) % 13) * 0.001; }
    static double tokensPerS(int step) { return step == 1 ? 1000.0 : 5000.0 + (step % 5) * 10.0; }
    static double tflops(int step) { return step == 1 ? 10.0 : 100.0 + (step % 3); }
    static double mem(int step) { return 10.0 + (step % 7) * 0.5; }
    static double tokens(int step) { return 8192.0 * step; }

    Json plan() const
    {
        Json p = Json::object();
        p.set("model", model).set("dp", 2).set("tp", tp).set("pp", 1).set("sp", false).set("zero", zero);
        p.set("micro_batch", microBatch).set("seq", 1024).set("precision", "bf16").set("order", "tp-cp-dp-pp");
        return p;
    }

    std::vector<std::string> lines() const
    {
        std::vector<std::string> out;
        Json start = Json::object();
        start.set("v", 1).set("event", "run_start").set("t", 0.0).set("run_id", runId).set("plan", plan());
        start.set("world_size", 2 * tp).set("hosts", Json::array()).set("trainer", "0.1.0");
        start["hosts"].push("node-a");
        start.set("future_field", "ignored by readers");
        if (predictedTokensPerS > 0) {
            Json pred = Json::object();
            pred.set("tokens_per_s", predictedTokensPerS).set("tflops", 110.0).set("mem_gib", 12.0);
            start.set("predicted", pred);
        }
        out.push_back(start.dump());
        for (int s = 1; s <= steps; ++s) {
            Json e = Json::object();
            e.set("v", 1).set("event", "step").set("t", 0.5 * s).set("step", s).set("loss", loss(s));
            e.set("lr", 1e-3).set("grad_norm", 1.0 / s).set("tokens", tokens(s)).set("tokens_per_s", tokensPerS(s));
            e.set("tflops", tflops(s)).set("mfu", tflops(s) / 989.0).set("step_ms", 80.0).set("mem_peak_gib", mem(s));
            if (hostWaitMs >= 0) e.set("host_wait_ms", hostWaitMs);
            out.push_back(e.dump());
            if (evalEvery > 0 && s % evalEvery == 0) {
                Json ev = Json::object();
                ev.set("v", 1).set("event", "eval").set("t", 0.5 * s).set("step", s).set("val_loss", loss(s) + 0.1);
                out.push_back(ev.dump());
            }
            if (s == steps / 2) {
                Json log = Json::object();
                log.set("v", 1).set("event", "log").set("t", 0.5 * s).set("level", "info").set("message", "halfway");
                out.push_back(log.dump());
                Json ck = Json::object();
                ck.set("v", 1).set("event", "checkpoint").set("t", 0.5 * s).set("step", s).set("path", "ckpt/half");
                out.push_back(ck.dump());
            }
        }
        if (withEnd) {
            Json end = Json::object();
            end.set("v", 1).set("event", "run_end").set("t", 0.5 * steps + 1).set("status", status);
            end.set("steps", steps).set("wall_s", 0.5 * steps + 1);
            out.push_back(end.dump());
        }
        return out;
    }

    std::string text() const
    {
        std::string s;
        for (const std::string& l : lines()) s += l + "\n";
        return s;
    }
};

} // namespace meshwork::testing
