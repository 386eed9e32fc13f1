using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;

namespace Metrics.Api.Tests.Auth;

/// <summary>
/// No token or ticket value reaches a log entry (message, structured values, scopes, exceptions) or a span of
/// Metrics.Api, at the most verbose log level and with OpenTelemetry's own query redaction switched off (as Aspire
/// does in Development). A control value in a harmless parameter shows the capture would see a leak.
/// </summary>
public class LeakTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Tickets_and_tokens_never_reach_logs_or_spans_but_an_unprotected_parameter_does()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:LogLevel:Microsoft.IdentityModel"] = "Trace",
            ["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "true",
            ["OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION"] = "true",
        });
        using var client = app.CreateHttp1Client(null);
        var control = $"CONTROL{Guid.NewGuid():N}";
        var secrets = new List<string>();

        // A valid flow: the access token in the header, the ticket in the query.
        var accessToken = TestTokens.Access("leak-test");
        secrets.Add(accessToken);
        var ticket = await Requests.TicketAsync(client, accessToken);
        secrets.Add(ticket);
        var stream = await Requests.GetAsync(client, $"{Requests.TicketQuery(ticket)}&probe={control}");
        Assert.Equal(HttpStatusCode.OK, stream.Status);

        // Every way a ticket or token is refused.
        var sentinel = $"SENTINEL{Guid.NewGuid():N}";
        var jwtSentinel = TestTokens.Ticket(subject: sentinel, key: new byte[32]);
        var expired = TestTokens.Ticket(expires: DateTimeOffset.UtcNow.AddMinutes(-5), notBefore: DateTimeOffset.UtcNow.AddMinutes(-6));
        var oversized = "eyJ" + sentinel + new string('Q', 5000);
        var badBearer = TestTokens.Access(key: new byte[32]);
        secrets.AddRange([sentinel, jwtSentinel, expired, oversized[..200], badBearer]);
        var refused = new[]
        {
            await Requests.GetAsync(client, $"{SseConnection.StreamPath}?ticket={sentinel}"),
            await Requests.GetAsync(client, $"{SseConnection.StreamPath}?ticket={jwtSentinel}"),
            await Requests.GetAsync(client, $"{SseConnection.StreamPath}?ticket={expired}"),
            await Requests.GetAsync(client, Requests.TicketQuery(ticket)),
            await Requests.GetAsync(client, $"{SseConnection.StreamPath}?ticket={oversized}"),
            await Requests.GetAsync(client, $"{SseConnection.StreamPath}?ticket={sentinel}", bearer: accessToken),
            await Requests.GetAsync(client, $"{SseConnection.StreamPath}?access_token={accessToken}"),
            await Requests.GetAsync(client, SseConnection.StreamPath, bearer: badBearer),
            await Requests.GetAsync(client, SseConnection.StreamPath, bearer: jwtSentinel),
            await Requests.GetAsync(client, SseConnection.StreamPath, bearer: sentinel),
            await Requests.PostTicketAsync(client, ticket),
            await Requests.GetAsync(client, $"/api/instance?ticket={sentinel}&x=1"),
            await Requests.GetAsync(client, $"/api/stream-evil?ticket={sentinel}"),
        };
        Assert.All(refused.Take(11), a => Assert.True(a.Status is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest, a.Status.ToString()));

        await Eventually.TrueAsync(
            () => app.Logs.Everything.Count(e => e.Contains("Request finished", StringComparison.Ordinal)) >= refused.Length + 2,
            s_wait,
            "every request was logged");
        await Eventually.TrueAsync(() => spans.Count >= refused.Length + 2, s_wait, "every request made a span");

        var logText = string.Join('\n', app.Logs.Everything);
        var spanText = string.Join('\n', spans.SelectMany(s => s.TagObjects.Select(t => $"{t.Key}={t.Value}").Append(s.DisplayName).Append(s.StatusDescription ?? "")));
        var responseText = string.Join('\n', refused.Select(a => a.AllText));

        // The control proves both captures see query strings.
        Assert.Contains($"probe={control}", logText, StringComparison.Ordinal);
        Assert.Contains($"probe={control}", spanText, StringComparison.Ordinal);
        Assert.Contains("ticket=[redacted]", logText, StringComparison.Ordinal);
        Assert.Contains("ticket=[redacted]", spanText, StringComparison.Ordinal);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, logText, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, spanText, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, responseText, StringComparison.Ordinal);
        }

        // The signature (the part that makes a token usable) of neither token, in any form.
        foreach (var token in new[] { accessToken, ticket })
        {
            var signature = token[(token.LastIndexOf('.') + 1)..];
            Assert.DoesNotContain(signature, logText, StringComparison.Ordinal);
            Assert.DoesNotContain(signature, spanText, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The server decodes a parameter's name before it reads it, so a real ticket sent as <c>?tick%65t=</c> opens a
    /// stream; it must be as invisible as one sent as <c>?ticket=</c>. So must a token under a name on no list.
    /// </summary>
    [Fact]
    public async Task A_ticket_under_an_encoded_spelling_of_its_name_opens_a_stream_and_still_reaches_no_log_or_span()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "true",
        });
        using var client = app.CreateHttp1Client(null);
        var secrets = new List<string>();
        var opened = new List<Answer>();
        var refused = new List<Answer>();
        foreach (var name in (string[])["tick%65t", "%74%69%63%6B%65%74", "TiCk%45T"])
        {
            var ticket = await Requests.TicketAsync(client, TestTokens.DefaultAccessToken);
            secrets.Add(ticket);
            var stream = await Requests.SendAsync(client, HttpMethod.Get, Requests.Raw(client, $"{SseConnection.StreamPath}?{name}={ticket}&lastEventId=&page=2"));
            Assert.Equal(HttpStatusCode.OK, stream.Status);
            Assert.Equal(ControlEvents.ReadyType, stream.FirstEvent?.EventType);
            opened.Add(stream);
        }

        var accessToken = TestTokens.Access("spelled");
        secrets.Add(accessToken);
        foreach (var query in (string[])[$"access%5Ftoken={accessToken}", $"token={accessToken}", $"t%C4%B1cket={accessToken}", accessToken])
        {
            refused.Add(await Requests.SendAsync(client, HttpMethod.Get, Requests.Raw(client, $"{SseConnection.StreamPath}?{query}")));
        }

        Assert.All(refused, a => Assert.Equal(HttpStatusCode.Unauthorized, a.Status));
        var requests = opened.Count + refused.Count;
        await Eventually.TrueAsync(
            () => app.Logs.Everything.Count(e => e.Contains("Request finished", StringComparison.Ordinal)) >= requests + 3,
            s_wait,
            "every request was logged");
        await Eventually.TrueAsync(() => spans.Count >= requests + 3, s_wait, "every request made a span");

        var logText = string.Join('\n', app.Logs.Everything);
        var spanText = string.Join('\n', spans.SelectMany(s => s.TagObjects.Select(t => $"{t.Key}={t.Value}")));
        Assert.Contains("tick%65t=[redacted]", logText, StringComparison.Ordinal);
        Assert.Contains("tick%65t=[redacted]", spanText, StringComparison.Ordinal);
        foreach (var secret in secrets.SelectMany(token => new[] { token, token[(token.LastIndexOf('.') + 1)..] }))
        {
            Assert.DoesNotContain(secret, logText, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, spanText, StringComparison.Ordinal);
        }
    }
}
