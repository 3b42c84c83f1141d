// Crash-test helper: ingests an endless synthetic run into a database and prints
// "committed <step>" after every commit, until it is killed. Usage: ingest_child DB RUN_ID
#include "core/events/Event.h"
#include "core/runs/Ingestor.h"
#include "core/runs/RunStore.h"

#include <chrono>
#include <cstdio>
#include <exception>

using namespace meshwork;

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: ingest_child DB RUN_ID\n");
        return 2;
    }
    try {
        RunStore store(argv[1]);
        Ingestor ingestor(store, argv[2], Ingestor::Options{.maxRows = 400, .maxDelay = std::chrono::milliseconds(50)});
        auto make = [](const char* type, double t) {
            Event e;
            e.type = type;
            e.t = t;
            e.fields = Json::object();
            e.fields.set("v", 1).set("event", type).set("t", t);
            return e;
        };
        Event start = make("run_start", 0);
        start.fields.set("run_id", argv[2]).set("trainer", "crash-test");
        ingestor.add(start);
        for (int64_t step = 1;; ++step) {
            Event e = make("step", step * 0.01);
            e.fields.set("step", step).set("loss", 5.0 / static_cast<double>(step)).set("lr", 1e-3);
            e.fields.set("tokens", step * 4096).set("tokens_per_s", 1e5).set("step_ms", 40.0);
            if (ingestor.add(e)) {
                std::printf("committed %lld\n", static_cast<long long>(ingestor.lastCommittedStep()));
                std::fflush(stdout);
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ingest_child: %s\n", e.what());
        return 1;
    }
}
