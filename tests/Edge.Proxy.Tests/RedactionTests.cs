using System.Diagnostics;
using System.Net;
using Edge.Proxy.Tests.Infrastructure;

namespace Edge.Proxy.Tests;

/// <summary>
/// A stream ticket in the query, in any spelling of its name, reaches the upstream intact but never a log line or a
/// span of the edge; nor does any other query value except those of the harmless names (<c>lastEventId</c>).
/// </summary>
public sealed class RedactionTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Query_tokens_never_reach_the_logs_but_do_reach_the_upstream()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream, settings =>
        {
            // The lines that print full URLs, switched on as someone debugging would.
            settings["Logging:LogLevel:Yarp"] = "Debug";
            settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug";
        });
        using var client = Clients.Http2OverTls();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        await using (var stream = await SseConnection.ConnectAsync(
            client, new Uri(edge.HttpsUrl, "/api/stream/metrics?id=ticketed&ticket=SECRET-TICKET-1&lastEventId=7&end=1"), cancellationToken: timeout.Token))
        {
            await stream.ReadUntilAsync("ready", Step);
        }

        using (var response = await client.GetAsync(new Uri(edge.HttpsUrl, "/api/echo/x?Access_Token=SECRET-TOKEN-2"), timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var response = await client.GetAsync(new Uri(edge.HttpsUrl, "/?x=1&ticket=SECRET-TICKET-3"), timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Spellings the server decodes to the same names, and a token under a name that is on no list.
        foreach (var query in (string[])["tick%65t=SECRET-TICKET-4", "access%5Ftoken=SECRET-TOKEN-5", "TiCk%45T=SECRET-TICKET-6", "token=SECRET-JWT-7"])
        {
            using var response = await client.GetAsync(Clients.Raw(edge.HttpsUrl, "/api/echo/spelled?" + query), timeout.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Contains("ticket=SECRET-TICKET-1", upstream.Streams["ticketed"].Request.QueryString, StringComparison.Ordinal);

        // (YARP's destination URI decodes the letter: the upstream reads "ticket" either way.)
        Assert.Contains(upstream.Requests, r => r.QueryString.Contains("=SECRET-TICKET-4", StringComparison.Ordinal));

        var entries = await WaitForLogsAsync(edge, "Request finished", 7);
        Assert.DoesNotContain(entries, e => e.AllText.Contains("SECRET", StringComparison.Ordinal));

        var proxying = entries.Where(e => e.Message.StartsWith("Proxying to", StringComparison.Ordinal)).ToList();
        Assert.Equal(7, proxying.Count);
        Assert.Contains(proxying, e => e.Message.Contains("/api/stream/metrics?id=[redacted]&ticket=[redacted]&lastEventId=7&end=[redacted]", StringComparison.Ordinal));
        Assert.Contains(proxying, e => e.Message.Contains("?Access_Token=[redacted]", StringComparison.Ordinal));
        Assert.Contains(proxying, e => e.Message.Contains("?token=[redacted]", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Message.StartsWith("Request starting", StringComparison.Ordinal)
            && e.Message.Contains("?x=[redacted]&ticket=[redacted]", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Message.StartsWith("Request starting", StringComparison.Ordinal)
            && e.Message.Contains("?tick%65t=[redacted]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Query_tokens_are_redacted_from_request_spans_even_when_Aspire_disables_OpenTelemetry_redaction()
    {
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (spans)
                {
                    spans.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream, settings =>
        {
            settings["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "true";
            settings["OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION"] = "true";
        });
        using var client = Clients.Http2OverTls();
        var path = $"/api/echo/{Guid.NewGuid():N}";

        using (var response = await client.GetAsync(Clients.Raw(edge.HttpsUrl, path + "?tick%65t=SECRET-TICKET-4&page=2&lastEventId=9")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The edge's server span (the stand-in upstream, in this process too, makes one with YARP's decoded spelling).
        var server = await WaitForSpanAsync(spans, s => s.GetTagItem("url.path")?.ToString() == path && s.GetTagItem("url.query")?.ToString()?.Contains("tick%65t", StringComparison.Ordinal) == true);
        Assert.Equal("tick%65t=[redacted]&page=[redacted]&lastEventId=9", server.GetTagItem("url.query")?.ToString()?.TrimStart('?'));
        lock (spans)
        {
            Assert.DoesNotContain(spans, s => s.TagObjects.Any(t => t.Value?.ToString()?.Contains("SECRET", StringComparison.Ordinal) == true));
        }

        // The edge's own call to the upstream.
        var outgoing = await WaitForSpanAsync(spans, s => s.Kind == ActivityKind.Client && s.GetTagItem("url.full")?.ToString()?.Contains(path, StringComparison.Ordinal) == true);
        Assert.DoesNotContain("SECRET", outgoing.GetTagItem("url.full")?.ToString(), StringComparison.Ordinal);
    }

    private static async Task<List<LogEntry>> WaitForLogsAsync(EdgeHost edge, string prefix, int count)
    {
        var waited = Stopwatch.StartNew();
        while (edge.Logs.Entries.Count(e => e.Message.StartsWith(prefix, StringComparison.Ordinal)) < count && waited.Elapsed < Step)
        {
            await Task.Delay(50);
        }

        return [.. edge.Logs.Entries];
    }

    private static async Task<Activity> WaitForSpanAsync(List<Activity> spans, Func<Activity, bool> match)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < Step)
        {
            lock (spans)
            {
                if (spans.FirstOrDefault(match) is { } span)
                {
                    return span;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("No matching span.");
    }
}
