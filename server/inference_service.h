// accllm.v1.Inference: Generate (a GenerateCall per stream) and Tokenize.
#ifndef ACCLLM_SERVER_INFERENCE_SERVICE_H_
#define ACCLLM_SERVER_INFERENCE_SERVICE_H_

#include "accllm/v1/inference.grpc.pb.h"  // v1::Inference::CallbackService
#include "server/admission.h"             // Admission
#include "server/model_manager.h"         // ModelManager
#include "server/request_builder.h"       // RequestDefaults

namespace accllm {

class InferenceService final : public v1::Inference::CallbackService {
 public:
  InferenceService(const ModelManager& models, Admission& admission, RequestDefaults defaults)
      : models_(models), admission_(admission), defaults_(defaults) {}

  grpc::ServerWriteReactor<v1::GenerateResponse>* Generate(
      grpc::CallbackServerContext* context, const v1::GenerateRequest* request) override;
  grpc::ServerUnaryReactor* Tokenize(grpc::CallbackServerContext* context,
                                     const v1::TokenizeRequest* request,
                                     v1::TokenizeResponse* response) override;

 private:
  const ModelManager& models_;
  Admission& admission_;
  RequestDefaults defaults_;
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_INFERENCE_SERVICE_H_
