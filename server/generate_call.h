// One Inference.Generate stream (gRPC callback API): validates the request,
// submits it to the model's scheduler and writes tokens as they come, several
// per message when the client reads slower than they arrive. The text of a
// character split across tokens arrives whole. The client going away (or
// cancelling) cancels the request, which frees its KV pages at once.
#ifndef ACCLLM_SERVER_GENERATE_CALL_H_
#define ACCLLM_SERVER_GENERATE_CALL_H_

#include "accllm/v1/inference.grpc.pb.h"  // v1::GenerateRequest, v1::GenerateResponse
#include "grpcpp/support/server_callback.h"  // grpc::ServerWriteReactor
#include "server/admission.h"              // Admission
#include "server/model_manager.h"          // ModelManager
#include "server/request_builder.h"        // RequestDefaults

namespace accllm {

// Starts the call; the reactor deletes itself when gRPC is done with it.
grpc::ServerWriteReactor<v1::GenerateResponse>* StartGenerateCall(
    grpc::CallbackServerContext* context, const v1::GenerateRequest* request,
    const ModelManager& models, Admission& admission, const RequestDefaults& defaults);

}  // namespace accllm

#endif  // ACCLLM_SERVER_GENERATE_CALL_H_
