package report

import "fmt"

// GRPC is phase 3: unary and batch calls against the bare gRPC
// server.
type GRPC struct {
	Err                            error
	Get, GetBare, Batch, BatchBare *LoadStats
	Conns, Callers, BatchSize      int
}

func (r *Report) writeGRPC(w *mdWriter) {
	w.line("## 3. gRPC")
	w.line("")
	if r.GRPC != nil {
		w.line(fmt.Sprintf("A Go closed-loop generator (in `gintoki-bench`): %d callers over %d connections, the generated client of", r.GRPC.Callers, r.GRPC.Conns))
		w.line(fmt.Sprintf("`gintoki.inventory.v1.InventoryService` (responses decoded), random ids; batches of %d distinct ids. **bare grpc-go**", r.GRPC.BatchSize))
	}
	w.line("(`gintoki-bench bare-grpc`, its own process) answers from the service's protobuf bodies, fetched once byte for byte")
	w.line("and sent **pre-encoded through a raw-bytes codec**, as `grpcapi` does; no interceptor, cache or metrics.")
	w.line("")
	if !r.phaseDone(w, r.GRPC != nil, errOf(r.GRPC)) {
		return
	}
	g := r.GRPC
	writeLoadTable(w, true, g.Get, g.GetBare, g.Batch, g.BatchBare)
	w.line(fmt.Sprintf("gintoki / bare: GetInventory **%.2f×** calls/s, **%.2f×** p99; BatchGetInventory **%.2f×** calls/s, **%.2f×** p99.",
		g.Get.RPS.Median()/g.GetBare.RPS.Median(), g.Get.P99.Median()/g.GetBare.P99.Median(),
		g.Batch.RPS.Median()/g.BatchBare.RPS.Median(), g.Batch.P99.Median()/g.BatchBare.P99.Median()))
	w.line("")
}

func (r *Report) grpcBatchVerdict() verdict {
	const t = "gRPC BatchGetInventory (100 cached ids): calls/s ≥ 0.9× bare grpc-go"
	if v := r.phaseMissing(t, true, r.GRPC != nil, errOf(r.GRPC)); v != nil {
		return *v
	}
	got := r.GRPC.Batch.RPS.Median() / r.GRPC.BatchBare.RPS.Median()
	return atLeast(t, fmt.Sprintf("%.2f× (%s vs %s calls/s)", got, count(r.GRPC.Batch.RPS.Median()), count(r.GRPC.BatchBare.RPS.Median())), got, targetGRPCRatio)
}

func (r *Report) grpcVerdict() verdict {
	const t = "gRPC GetInventory: calls/s ≥ 0.9× bare grpc-go"
	if v := r.phaseMissing(t, true, r.GRPC != nil, errOf(r.GRPC)); v != nil {
		return *v
	}
	got := r.GRPC.Get.RPS.Median() / r.GRPC.GetBare.RPS.Median()
	return atLeast(t, fmt.Sprintf("%.2f× (%s vs %s calls/s)", got, count(r.GRPC.Get.RPS.Median()), count(r.GRPC.GetBare.RPS.Median())), got, targetGRPCRatio)
}

func (r *GRPC) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}
