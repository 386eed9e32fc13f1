namespace LoadTool;

internal static class Usage
{
    public const string Text = """
        LoadTool: SSE subscriptions under load, and the benchmark suite (bench/README.md).

        LoadTool load   --url URL [--streams 1000] [--seconds 10] [--pids PID,PID] [--json FILE] [connection options]
            Opens N streams, measures delivery for a window, prints connected streams, failures by cause, time to
            first frame, latency p50/p99/max (receive time - the event's "timestamp"), delivered events/s, client
            CPU, and the CPU/RSS of the given server processes (with their descendants).

        LoadTool churn  --url URL [--cycles 10000] [--concurrency 100] [--limit-seconds 120] [--idle-seconds 10]
                        [--pids PID,PID] [--json FILE] [connection options]
            Open / first frame / close cycles, then an idle period: server CPU while idle and memory before, after
            the churn and after the idle period.

        LoadTool token  --jwt-key BASE64 [--user 0] [--jwt-issuer ...] [--jwt-audience ...]
            Prints an access token as the development issuer would mint it (for curl).

        LoadTool suite  [--quick] [--repo DIR] [--results DIR] [--doc FILE] [--targets edge,api,nchan-h1,nchan-h2,naive]
                        [--scenarios w1,w2,w3] [--w1-streams 1000,5000,10000,20000] [--w2-rates 10,25,50,100]
                        [--profile] [--api-env KEY=VALUE]... [--edge-env KEY=VALUE]...
            Runs every scenario against every target (servers started and stopped by the suite) and writes
            docs/benchmarks.md. bench/run.sh is the way to call it.

        LoadTool report --results DIR [--doc FILE]
            Rewrites the document from a results folder.

        Connection options:
          --url URL                      stream URL; http:// (HTTP/1.1 or h2c) or https:// (TLS, ALPN)
          --http 1.1|2                   protocol (default 2; h2c with http://)
          --streams-per-connection 500   HTTP/2 streams per connection
          --source-addresses 1           connect from 127.0.0.1..127.0.0.N (HTTP/1.1 beyond one address's ports)
          --open-concurrency 200         streams being opened at once
          --open-timeout 30              seconds a stream may take to deliver its first frame
          --event-type metrics           data events are the ones with this event name ("message" = unnamed)
          --auth none|bearer|ticket      bearer: Authorization header; ticket: POST /api/stream/tickets, then ?ticket=
          --streams-per-user 5           streams per user (one token per user, user-0..user-N)
          --jwt-key BASE64 --jwt-issuer ISS --jwt-audience AUD --jwt-scope metrics.read
          --ticket-url URL               default: /api/stream/tickets on the stream URL's origin
          --pin-cert-sha256 HEX          accept exactly this (self-signed) server certificate
        """;
}
