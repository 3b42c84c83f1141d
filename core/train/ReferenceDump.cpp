#include "core/train/ReferenceDump.h"

#include "core/json/Json.h"
#include "core/train/Model.h"
#include "core/train/TrainError.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace meshwork {

namespace {

void writeFile(const std::filesystem::path& path, const void* data, size_t bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
    if (!out) throw TrainError(TrainErrorKind::Io, "cannot write " + path.string());
}

} // namespace

double dumpReference(const std::string& dir, TransformerModel& model, const std::vector<int32_t>& inputs,
                     const std::vector<int32_t>& targets, int64_t B, int64_t T)
{
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw TrainError(TrainErrorKind::Io, "--dump-reference: cannot create " + dir + ": " + ec.message());
    const std::filesystem::path d(dir);

    const auto i32 = at::TensorOptions().dtype(at::kInt);
    at::Tensor x = at::from_blob(const_cast<int32_t*>(inputs.data()), {B, T}, i32).to(at::kLong);
    at::Tensor y = at::from_blob(const_cast<int32_t*>(targets.data()), {B, T}, i32).to(at::kLong);
    model.zeroGrad();
    at::Tensor loss = model.loss(x, y);
    loss.backward();
    const float lossValue = loss.item<float>();

    const at::Tensor params = model.flatParams().detach().cpu().contiguous();
    const at::Tensor grads = model.flatGrads().detach().cpu().contiguous();
    writeFile(d / "params.f32", params.data_ptr<float>(), static_cast<size_t>(params.numel()) * 4);
    writeFile(d / "grads.f32", grads.data_ptr<float>(), static_cast<size_t>(grads.numel()) * 4);
    writeFile(d / "inputs.i32", inputs.data(), inputs.size() * 4);
    writeFile(d / "targets.i32", targets.data(), targets.size() * 4);
    writeFile(d / "loss.f32", &lossValue, 4);

    Json layout = Json::array();
    for (const auto& p : model.layout().params) {
        Json shape = Json::array();
        for (int64_t s : p.shape) shape.push(s);
        layout.push(Json::object().set("name", p.name).set("shape", shape).set("offset", p.offset));
    }
    Json index = Json::object();
    index.set("model", model.spec().toJson()).set("B", B).set("T", T).set("loss", static_cast<double>(lossValue));
    index.set("parameters", model.parameterCount()).set("layout", layout);
    const std::string text = index.dump(2);
    writeFile(d / "index.json", text.data(), text.size());
    return lossValue;
}

} // namespace meshwork
