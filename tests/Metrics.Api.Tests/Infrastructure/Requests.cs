using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>One request and everything a test asserts on: status, headers, body (or the stream's first event), time.</summary>
public sealed record Answer(HttpStatusCode Status, HttpResponseHeaders Headers, HttpContentHeaders? ContentHeaders, string Body, SseItem<string>? FirstEvent, TimeSpan Elapsed)
{
    /// <summary>Everything the response showed the caller, for "never echoed" checks.</summary>
    public string AllText => $"{Headers}\n{ContentHeaders}\n{Body}\n{FirstEvent?.Data}";
}

public static class Requests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Sends a request. A <c>text/event-stream</c> answer is read up to its first event and then dropped (the
    /// client goes away); anything else is read to its end.
    /// </summary>
    public static Task<Answer> SendAsync(
        HttpClient client,
        HttpMethod method,
        string pathAndQuery,
        string? bearer = null,
        Action<HttpRequestMessage>? configure = null,
        HttpContent? content = null) =>
        SendAsync(client, method, new Uri(pathAndQuery, UriKind.Relative), bearer, configure, content);

    /// <summary>As above, to a URL made by <see cref="Raw"/> or relative to the client's base address.</summary>
    public static async Task<Answer> SendAsync(
        HttpClient client,
        HttpMethod method,
        Uri url,
        string? bearer = null,
        Action<HttpRequestMessage>? configure = null,
        HttpContent? content = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var request = new HttpRequestMessage(method, url)
        {
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
            Content = content,
        };
        if (method == HttpMethod.Get)
        {
            request.Headers.Accept.ParseAdd("text/event-stream");
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        configure?.Invoke(request);
        using var timeout = new CancellationTokenSource(s_timeout);
        var stopwatch = Stopwatch.StartNew();
        await using var answer = await SseConnection.SendAsync(client, request, timeout.Token);
        var elapsed = stopwatch.Elapsed;
        var response = answer.Response;
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            var first = await answer.ReadAsync(s_timeout);
            return new Answer(response.StatusCode, response.Headers, response.Content.Headers, string.Empty, first, elapsed);
        }

        var text = await response.Content.ReadAsStringAsync(timeout.Token);
        return new Answer(response.StatusCode, response.Headers, response.Content.Headers, text, null, elapsed);
    }

    /// <summary>
    /// The client's base address with this path and query, sent exactly as written: <see cref="Uri"/> otherwise decodes
    /// percent-encoded letters, and <c>tick%65t</c> would leave as <c>ticket</c>.
    /// </summary>
    public static Uri Raw(HttpClient client, string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new(client.BaseAddress!.GetLeftPart(UriPartial.Authority) + pathAndQuery, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
    }

    public static Task<Answer> GetAsync(HttpClient client, string pathAndQuery, string? bearer = null, Action<HttpRequestMessage>? configure = null) =>
        SendAsync(client, HttpMethod.Get, pathAndQuery, bearer, configure);

    /// <summary><c>POST /api/stream/tickets</c> with a JSON body (null: no body at all).</summary>
    public static Task<Answer> PostTicketAsync(HttpClient client, string? bearer, string? jsonBody = "{\"path\":\"/api/stream/metrics\"}", string pathAndQuery = "/api/stream/tickets") =>
        SendAsync(
            client,
            HttpMethod.Post,
            pathAndQuery,
            bearer,
            content: jsonBody is null ? null : new StringContent(jsonBody, System.Text.Encoding.UTF8, "application/json"));

    /// <summary>A ticket for the metrics stream, minted by the app for <paramref name="bearer"/>.</summary>
    public static async Task<string> TicketAsync(HttpClient client, string bearer)
    {
        var answer = await PostTicketAsync(client, bearer);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        using var json = System.Text.Json.JsonDocument.Parse(answer.Body);
        return json.RootElement.GetProperty("ticket").GetString()!;
    }

    public static string TicketQuery(string ticket, string path = SseConnection.StreamPath) => $"{path}?ticket={Uri.EscapeDataString(ticket)}";
}
