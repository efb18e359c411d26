package attack

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/loadsim/loadsim/scenario"
)

// PoolSize is the number of request bodies pre-rendered per tenant; each hit
// picks one of them with the tenant's seeded generator.
const PoolSize = 256

// filler is the text bodies are cut from: 4 bytes per token, so that the
// API model (⌈bytes/4⌉ per input) counts the tokens the sampler drew.
const filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "

// query is the question of question-specific inputs: 4 bytes, one token.
const query = "why?"

// target is one pre-rendered request.
type target struct {
	url    string
	body   []byte
	header http.Header // shared, read-only: vegeta copies it per request
}

// pool is a tenant's pre-rendered requests and the generator picking them.
// It is safe for concurrent use (vegeta calls the targeter from its workers).
type pool struct {
	mu      sync.Mutex
	rng     *rand.Rand
	targets []target
}

// newPool renders PoolSize requests of tenant drawn from sampler with rng,
// for the API at base URL, authenticated with key.
func newPool(base, key string, sampler *scenario.Sampler, rng *rand.Rand) *pool {
	p := &pool{rng: rng, targets: make([]target, PoolSize)}
	var text []byte
	for len(text) < 1<<16 {
		text = append(text, filler...)
	}
	for i := range p.targets {
		r := sampler.Draw(rng)
		p.targets[i] = render(base, key, r, &text)
	}
	return p
}

// render builds the request r as the Invalid kind documents.
func render(base, key string, r scenario.Request, text *[]byte) target {
	h := http.Header{"Content-Type": {"application/json"}}
	switch r.Invalid {
	case scenario.InvalidMissingKey:
	case scenario.InvalidKey:
		h.Set("X-API-Key", scenario.InvalidAPIKey)
	default:
		h.Set("X-API-Key", key)
	}
	ctxBytes := int(r.Tokens) * 4
	if r.Endpoint.NeedsQuery() {
		ctxBytes -= len(query)
	}
	for len(*text) < ctxBytes {
		*text = append(*text, filler...)
	}
	context := (*text)[:max(ctxBytes, 0)]
	var b bytes.Buffer
	b.WriteByte('{')
	input := func() {
		b.WriteString(`"context":"`)
		b.Write(context)
		b.WriteByte('"')
		if r.Endpoint.NeedsQuery() {
			b.WriteString(`,"query":"` + query + `"`)
		}
	}
	if r.Endpoint.Batch() {
		b.WriteString(`"inputs":[`)
		for j := 0; j < r.Items; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('{')
			input()
			b.WriteByte('}')
		}
		b.WriteByte(']')
	} else {
		input()
	}
	if r.Model != "" {
		b.WriteString(`,"compression_model_name":` + strconv.Quote(r.Model))
	}
	if r.Invalid == scenario.InvalidRequest {
		b.WriteString(`,"target_compression_ratio":"2"`)
	}
	b.WriteByte('}')
	return target{url: base + r.Endpoint.Path(), body: b.Bytes(), header: h}
}

// targeter returns a vegeta.Targeter picking from the pool.
func (p *pool) targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		p.mu.Lock()
		tg := &p.targets[p.rng.IntN(len(p.targets))]
		p.mu.Unlock()
		t.Method = http.MethodPost
		t.URL = tg.url
		t.Body = tg.body
		t.Header = tg.header
		return nil
	}
}
