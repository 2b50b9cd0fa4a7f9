#include "server/inference_service.h"

#include "absl/strings/str_cat.h"         // absl::StrCat
#include "server/generate_call.h"         // StartGenerateCall
#include "proto/grpc_status.h"  // ToGrpcStatus

namespace accllm {

grpc::ServerWriteReactor<v1::GenerateResponse>* InferenceService::Generate(
    grpc::CallbackServerContext* context, const v1::GenerateRequest* request) {
  return StartGenerateCall(context, request, models_, admission_, defaults_);
}

namespace {

absl::Status TokenizeWith(const ServedModel& model, const v1::TokenizeRequest& request,
                          v1::TokenizeResponse* response) {
  const Tokenizer* tokenizer = model.tokenizer();
  if (tokenizer == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("model ", model.name(), " has no tokenizer"));
  }
  if (request.has_decode()) {
    for (int32_t id : request.decode().ids()) {
      if (id < 0 || id >= model.config().vocab_size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "decode: token ", id, " is outside the vocabulary [0, ", model.config().vocab_size, ")"));
      }
    }
    std::vector<int32_t> ids(request.decode().ids().begin(), request.decode().ids().end());
    absl::StatusOr<std::string> text = tokenizer->Decode(ids);
    if (!text.ok()) return text.status();
    response->set_text(*text);
    response->mutable_ids()->Add(ids.begin(), ids.end());
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<int32_t>> ids = tokenizer->Encode(request.text(), request.add_bos());
  if (!ids.ok()) return absl::InvalidArgumentError(absl::StrCat("text: ", ids.status().message()));
  response->mutable_ids()->Add(ids->begin(), ids->end());
  response->set_text(request.text());
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* InferenceService::Tokenize(grpc::CallbackServerContext* context,
                                                     const v1::TokenizeRequest* request,
                                                     v1::TokenizeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::shared_ptr<ServedModel>> model = models_.Acquire(request->model());
  absl::Status status = model.ok() ? TokenizeWith(**model, *request, response) : model.status();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace accllm
