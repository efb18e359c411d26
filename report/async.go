package report

import (
	"time"

	"github.com/loadsim/loadsim/sim"
)

// Defaults of AsyncConfig.
const (
	// DefaultAsyncBatchSize is the number of records per batch when
	// AsyncConfig.BatchSize is zero.
	DefaultAsyncBatchSize = 4096
	// DefaultAsyncBatches is the number of batches in circulation when
	// AsyncConfig.Batches is zero.
	DefaultAsyncBatches = 4
)

// AsyncConfig configures an Async. The zero value selects the defaults.
type AsyncConfig struct {
	// BatchSize is the number of records (attempts, outcomes and circuit
	// observations together) copied into one batch before it is handed to the
	// background goroutine. Zero means DefaultAsyncBatchSize; negative values
	// are an error of the caller and are treated as zero.
	BatchSize int

	// Batches is the number of batches in circulation (the one being filled
	// plus those queued or being applied). When all are full the producer
	// waits for the background goroutine, which bounds both memory
	// (Batches × BatchSize × 129 B for a *Recorder, × 265 B for other
	// recorders) and how far recording lags behind. Zero means
	// DefaultAsyncBatches; values below 2 are raised to 2.
	Batches int
}

// recordKind tags one entry of an Async batch.
type recordKind uint8

const (
	kindAttempt recordKind = iota
	kindOutcome
	kindCircuit
)

// circuitObservation is one queued ObserveCircuit call.
type circuitObservation struct {
	t time.Time
	s sim.CircuitState
}

// asyncBatch is a run of records in stream order: kinds[i] says which slice
// holds the i-th record, each slice in order. Records for a *Recorder are
// kept in its compact form (AttemptRecord, OutcomeRecord: half the bytes to copy
// and to move between cores), records for any other recorder in full.
// Batches are recycled, so the slices keep their capacity.
type asyncBatch struct {
	kinds     []recordKind
	attempts  []sim.Attempt // other recorders
	outcomes  []sim.Outcome
	cattempts []AttemptRecord // a *Recorder
	coutcomes []OutcomeRecord
	circuits  []circuitObservation
	ack       bool // a Flush waits for this batch to be applied
}

func (b *asyncBatch) reset() {
	b.kinds = b.kinds[:0]
	b.attempts = b.attempts[:0]
	b.outcomes = b.outcomes[:0]
	b.cattempts = b.cattempts[:0]
	b.coutcomes = b.coutcomes[:0]
	b.circuits = b.circuits[:0]
	b.ack = false
}

// Async moves recording off the caller's goroutine: each RecordAttempt,
// RecordOutcome and ObserveCircuit call copies its record into the current
// batch (no allocation in steady state), and full batches go to one
// background goroutine that applies them to the wrapped recorder in exactly
// the order of the calls, so the wrapped recorder ends in the same state as
// if it had been called directly. Circuit observations travel in the same
// stream as the records, so their order relative to the records is kept.
//
// Async serves a single producer such as the simulator's engine: its
// recording methods, Flush and Close must not be called concurrently with
// each other (one goroutine at a time). The wrapped recorder is called only
// from the background goroutine, with pointers into a batch that it must not
// keep after the call returns (the sim.Recorder contract).
//
// Records are applied with a lag: read the wrapped recorder (Summary, Series)
// after Flush or Close. Close must be called once the stream ends, or the
// background goroutine leaks. Create an Async with NewAsync; the zero value
// is not usable.
type Async struct {
	rec       sim.Recorder
	obs       sim.CircuitObserver // rec as a CircuitObserver, or nil
	direct    *Recorder           // rec as a *Recorder: batches applied under one lock
	batchSize int
	cur       *asyncBatch // being filled; nil after Close
	full      chan *asyncBatch
	free      chan *asyncBatch
	acked     chan struct{}
	done      chan struct{}
}

var (
	_ sim.Recorder        = (*Async)(nil)
	_ sim.CircuitObserver = (*Async)(nil)
)

// NewAsync starts the background goroutine that applies batches of records
// to rec and returns the Async that feeds it. Call Close when the stream
// ends. When rec is a *Recorder, each batch is applied holding the
// recorder's lock once rather than once per record.
func NewAsync(rec sim.Recorder, cfg AsyncConfig) *Async {
	size := cfg.BatchSize
	if size <= 0 {
		size = DefaultAsyncBatchSize
	}
	n := cfg.Batches
	if n == 0 {
		n = DefaultAsyncBatches
	}
	n = max(n, 2)
	a := &Async{
		rec:       rec,
		batchSize: size,
		full:      make(chan *asyncBatch, n),
		free:      make(chan *asyncBatch, n),
		acked:     make(chan struct{}),
		done:      make(chan struct{}),
	}
	a.obs, _ = rec.(sim.CircuitObserver)
	a.direct, _ = rec.(*Recorder)
	for i := range n {
		b := &asyncBatch{kinds: make([]recordKind, 0, size)}
		if a.direct != nil {
			b.cattempts = make([]AttemptRecord, 0, size)
			b.coutcomes = make([]OutcomeRecord, 0, size)
		} else {
			b.attempts = make([]sim.Attempt, 0, size)
			b.outcomes = make([]sim.Outcome, 0, size)
		}
		if i == 0 {
			a.cur = b
		} else {
			a.free <- b
		}
	}
	go a.run()
	return a
}

// Recorder returns a as a sim.Recorder whose dynamic type implements
// sim.CircuitObserver exactly when the wrapped recorder does, and Sink when
// the wrapped recorder is a *Recorder: for a *Recorder a view with every
// method, for another CircuitObserver a itself, otherwise a view with only
// the two recording methods. Engines that look for a CircuitObserver or a
// Sink by type assertion should be given this value rather than a (whose
// ObserveCircuit is then a no-op, and which is no Sink).
func (a *Async) Recorder() sim.Recorder {
	switch {
	case a.direct != nil:
		return sinkView{a}
	case a.obs != nil:
		return a
	}
	return recordOnly{a}
}

// recordOnly exposes only the sim.Recorder methods of an Async.
type recordOnly struct{ a *Async }

func (r recordOnly) RecordAttempt(at *sim.Attempt) { r.a.RecordAttempt(at) }
func (r recordOnly) RecordOutcome(o *sim.Outcome)  { r.a.RecordOutcome(o) }

// sinkView is an Async feeding a *Recorder: it takes sim records and, as a
// Sink, compact ones.
type sinkView struct{ *Async }

var _ Sink = sinkView{}

// AddAttempt queues a copy of *at, as RecordAttempt does.
func (v sinkView) AddAttempt(at *AttemptRecord) {
	b := v.batch()
	*grow(&b.cattempts) = *at
	v.added(b, kindAttempt)
}

// AddOutcome queues a copy of *o, as RecordOutcome does.
func (v sinkView) AddOutcome(o *OutcomeRecord) {
	b := v.batch()
	*grow(&b.coutcomes) = *o
	v.added(b, kindOutcome)
}

// RecordAttempt queues a copy of *at; at may be reused as soon as it returns.
// It waits only when every batch is full. It panics after Close.
func (a *Async) RecordAttempt(at *sim.Attempt) {
	b := a.batch()
	if a.direct != nil {
		grow(&b.cattempts).set(at)
	} else {
		*grow(&b.attempts) = *at
	}
	a.added(b, kindAttempt)
}

// RecordOutcome queues a copy of *o; o may be reused as soon as it returns.
// It waits only when every batch is full. It panics after Close.
func (a *Async) RecordOutcome(o *sim.Outcome) {
	b := a.batch()
	if a.direct != nil {
		grow(&b.coutcomes).set(o)
	} else {
		*grow(&b.outcomes) = *o
	}
	a.added(b, kindOutcome)
}

// grow extends *s by one element in place and returns it, so that a record
// is copied straight into the batch (append(s, *at) copies through a
// temporary). len < cap = batchSize always holds here: every record also
// adds a kind, and a full batch is sent.
func grow[T any](s *[]T) *T {
	n := len(*s)
	*s = (*s)[:n+1]
	return &(*s)[n]
}

// added notes a record of kind k in b and sends b when it is full.
func (a *Async) added(b *asyncBatch, k recordKind) {
	b.kinds = append(b.kinds, k)
	if len(b.kinds) >= a.batchSize {
		a.send(false)
	}
}

// ObserveCircuit queues the observation in the record stream when the
// wrapped recorder implements sim.CircuitObserver, and does nothing
// otherwise (see Recorder). It panics after Close.
func (a *Async) ObserveCircuit(t time.Time, s sim.CircuitState) {
	b := a.batch()
	if a.obs == nil {
		return
	}
	b.circuits = append(b.circuits, circuitObservation{t, s})
	a.added(b, kindCircuit)
}

// batch returns the batch being filled.
func (a *Async) batch() *asyncBatch {
	if a.cur == nil {
		panic("report: Async used after Close")
	}
	return a.cur
}

// send hands the current batch to the background goroutine, waits until it
// is applied when ack is set, and takes a free batch.
func (a *Async) send(ack bool) {
	a.cur.ack = ack
	a.full <- a.cur
	if ack {
		<-a.acked
	}
	a.cur = <-a.free
}

// Flush returns once every record queued so far has been applied to the
// wrapped recorder. Recording can go on afterwards. It panics after Close.
func (a *Async) Flush() {
	a.batch()
	a.send(true)
}

// Close applies every queued record, stops the background goroutine and
// returns once it has exited. Later calls do nothing; recording after Close
// panics.
func (a *Async) Close() {
	if a.cur == nil {
		return
	}
	a.full <- a.cur
	a.cur = nil
	close(a.full)
	<-a.done
}

// run is the background goroutine: it applies batches in order and recycles
// them until Close closes full.
func (a *Async) run() {
	defer close(a.done)
	for b := range a.full {
		a.apply(b)
		ack := b.ack
		b.reset()
		a.free <- b // never blocks: free holds every batch
		if ack {
			a.acked <- struct{}{}
		}
	}
}

// apply replays one batch on the wrapped recorder in stream order.
func (a *Async) apply(b *asyncBatch) {
	if r := a.direct; r != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		var ia, io, ic int
		for _, k := range b.kinds {
			switch k {
			case kindAttempt:
				r.recordAttempt(&b.cattempts[ia])
				ia++
			case kindOutcome:
				r.recordOutcome(&b.coutcomes[io])
				io++
			case kindCircuit:
				c := &b.circuits[ic]
				r.observeCircuit(c.t, c.s)
				ic++
			}
		}
		return
	}
	var ia, io, ic int
	for _, k := range b.kinds {
		switch k {
		case kindAttempt:
			a.rec.RecordAttempt(&b.attempts[ia])
			ia++
		case kindOutcome:
			a.rec.RecordOutcome(&b.outcomes[io])
			io++
		case kindCircuit:
			c := &b.circuits[ic]
			a.obs.ObserveCircuit(c.t, c.s)
			ic++
		}
	}
}
