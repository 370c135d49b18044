#pragma once
// What the commit pipeline (daemon/commit_pipeline.h) asks of delivery: the
// dispatcher seen from the batches it rides on, so the pipeline knows it
// only through this, and its tests can stand in for it.
//
// Delivery settles outcomes off the pipeline's batches (an attempt made, a
// message held for quiet hours, a digest gathered) and wants them committed
// with the next one; a row whose outcome is being committed is not tried
// again until that batch is durable. So the pipeline tells it three moments
// of each batch's life, always in this order for a batch and for batches in
// the order they were launched:
//
//   take(batch)   the batch is being filled: move in what is settled and
//                 route the batch's new messages (may come more than once);
//   launched()    what was taken since the last launched() is being written;
//   committed()   the oldest batch launched is on disk.
//
// Why three and not one "seal" call: a batch is launched for delivery's
// outcomes alone when it holds nothing else, so the pipeline must take them
// before it knows whether there is a batch to launch, and only then say it
// launched one. Folding the two would need delivery to say whether anything
// waits, or would launch (and later commit) batches with nothing in them,
// each a needless read of the outbox.
//
// The other way, delivery asks for a commit with
// CommitPipeline::request_flush() when something waits.

#include "store/store.h"

namespace docket::daemon {

class DeliveryPump {
 public:
  virtual ~DeliveryPump() = default;
  virtual void take(store::Batch& batch) = 0;
  virtual void launched() = 0;
  virtual void committed() = 0;
};

}  // namespace docket::daemon
