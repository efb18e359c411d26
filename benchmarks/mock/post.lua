-- wrk script: the README's example compression (a 200), sent with the
-- benchmark's unlimited key. No per-response Lua callback, so wrk itself stays cheap;
-- done() reports non-2xx answers, which run.sh treats as a failed run.
wrk.method = "POST"
wrk.path = "/api/compress/question-specific/"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "cmp_bench"
wrk.body = '{"context":"Machine learning is a field of study in artificial intelligence.","query":"What is machine learning?","compression_model_name":"latte_v1"}'

done = function(summary, latency, requests)
  io.write(string.format("non-2xx responses: %d\n", summary.errors.status))
end
