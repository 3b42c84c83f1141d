// A stand-in rank for launcher tests: behaves as its arguments say, reads torchrun's variables.
//   fake_rank --events FILE [--fail-rank R] [--sleep S] [--run-id ID]
// Rank 0 prints events to stdout; every rank writes them to its events file. The failing
// rank writes an error event and exits 1; the others run until the sleep ends or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

static volatile std::sig_atomic_t g_stop = 0;

int main(int argc, char** argv)
{
    std::string events;
    int failRank = -1;
    double sleepS = 30;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--events")) events = argv[i + 1];
        else if (!std::strcmp(argv[i], "--fail-rank")) failRank = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--sleep")) sleepS = std::atof(argv[i + 1]);
    }
    const int rank = std::atoi(std::getenv("RANK") ? std::getenv("RANK") : "-1");
    const int world = std::atoi(std::getenv("WORLD_SIZE") ? std::getenv("WORLD_SIZE") : "-1");
    std::signal(SIGTERM, [](int) { g_stop = 1; });
    FILE* f = std::fopen(events.c_str(), "w");
    auto emit = [&](const std::string& line) {
        if (f) { std::fprintf(f, "%s\n", line.c_str()); std::fflush(f); }
        if (rank == 0) { std::printf("%s\n", line.c_str()); std::fflush(stdout); }
    };
    emit("{\"v\":1,\"event\":\"run_start\",\"t\":0,\"world_size\":" + std::to_string(world) + ",\"rank\":"
         + std::to_string(rank) + ",\"master_port\":\"" + (std::getenv("MASTER_PORT") ? std::getenv("MASTER_PORT") : "") + "\"}");
    std::fprintf(stderr, "rank %d of %d up, pid %d\n", rank, world, int(getpid()));
    if (rank == failRank) {
        usleep(200000);
        emit("{\"v\":1,\"event\":\"error\",\"t\":0.2,\"kind\":\"comm\",\"message\":\"simulated collective timeout on rank "
             + std::to_string(rank) + "\"}");
        return 1;
    }
    for (int i = 0; i < int(sleepS * 20) && !g_stop; ++i) usleep(50000);
    emit(std::string("{\"v\":1,\"event\":\"run_end\",\"t\":1,\"status\":\"") + (g_stop ? "cancelled" : "completed") + "\"}");
    return 0;
}
