#include "core/planner/TrainerSupport.h"

#include "core/spec/Plan.h"

namespace meshwork {

std::vector<std::string> unsupportedParallelism(const Plan& plan)
{
    std::vector<std::string> e;
    if (plan.cp > 1) e.push_back("context parallelism (cp " + std::to_string(plan.cp) + ") is not in this trainer yet: set --cp 1");
    // ZeRO-3 (core/train/dist/Zero3.h) shards the units of the whole model: data parallelism alone.
    if (plan.zero == 3 && (plan.tp > 1 || plan.pp > 1))
        e.push_back("ZeRO-3 with tensor or pipeline parallelism (tp " + std::to_string(plan.tp) + ", pp "
                    + std::to_string(plan.pp) + ") is not in this trainer yet: use --zero 2, or --tp 1 --pp 1");
    return e;
}

bool embeddingRowsFewerBytes(int64_t tokens, int64_t vocab, int ranks)
{
    return ranks > 1 && tokens * ranks < 2 * vocab;
}

bool gathersEmbeddingRows(const Plan& plan, int64_t vocab)
{
    const int ranks = plan.dp * plan.cp;
    if (plan.tp > 1 || plan.pp > 1 || plan.zero >= 3 || ranks <= 1) return false;
    return embeddingRowsFewerBytes(plan.microBatch * plan.seq * plan.microBatches(), vocab, ranks);
}

bool overlapsParameterGather(const Plan& plan)
{
    return (plan.zero == 1 || plan.zero == 2) && plan.dp * plan.cp > 1;
}

bool partitionsGradients(const Plan& plan)
{
    return plan.zero == 2 && plan.pp == 1 && plan.dp * plan.cp > 1;
}

} // namespace meshwork
