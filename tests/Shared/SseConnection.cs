using System.Globalization;
using System.Net.ServerSentEvents;

namespace Tests.Shared;

/// <summary>
/// One SSE response, the tests' only SSE client: its status and headers as they came, then its events (id, type, data,
/// retry) read one by one with <see cref="SseParser"/>, each read bounded by a timeout. The body is touched only when
/// the first event is asked for, so a refusal's body can still be read from <see cref="Response"/>.
/// </summary>
internal sealed class SseConnection : IAsyncDisposable
{
    public const string StreamPath = "/api/stream/metrics";

    private readonly CancellationTokenSource _cancellation;
    private IAsyncEnumerator<SseItem<string>>? _items;
    private Task<bool>? _pending;

    private SseConnection(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        Response = response;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    public HttpResponseMessage Response { get; }

    /// <summary>Ids of the events read so far that carried one, in order.</summary>
    public List<long> Ids { get; } = [];

    /// <summary>Sends <paramref name="request"/> as it is and keeps the answer, whatever its status, with the body unread.</summary>
    public static async Task<SseConnection> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return new SseConnection(response, cancellationToken);
    }

    /// <summary>
    /// A GET as an EventSource sends it (<c>Accept: text/event-stream</c>, the client's default version), answered with
    /// any status. <paramref name="cancellationToken"/> also ends the reads.
    /// </summary>
    public static async Task<SseConnection> ConnectAsync(
        HttpClient client, Uri url, Action<HttpRequestMessage>? configure = null, string? lastEventId = null, CancellationToken cancellationToken = default)
    {
        using var request = Get(client, url, configure, lastEventId);
        return await SendAsync(client, request, cancellationToken);
    }

    /// <summary>As <see cref="ConnectAsync"/>, but the stream must open within 30 s: a refusal throws with its status and body.</summary>
    public static async Task<SseConnection> OpenAsync(
        HttpClient client, string pathAndQuery = StreamPath, string? lastEventId = null, Action<HttpRequestMessage>? configure = null, CancellationToken cancellationToken = default)
    {
        using var request = Get(client, new Uri(pathAndQuery, UriKind.RelativeOrAbsolute), configure, lastEventId);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadAsStringAsync(timeout.Token);
            response.Dispose();
            throw new HttpRequestException($"{(int)response.StatusCode} HTTP/{response.Version} from {client.BaseAddress}: {problem}", null, response.StatusCode);
        }

        return new SseConnection(response, cancellationToken);
    }

    /// <summary>The next event, or null when the server ended the stream cleanly. A timeout leaves the read pending for the next call.</summary>
    public async Task<SseItem<string>?> ReadAsync(TimeSpan timeout)
    {
        if (_items is null)
        {
            var body = await Response.Content.ReadAsStreamAsync(_cancellation.Token);
            _items = SseParser.Create(body).EnumerateAsync(_cancellation.Token).GetAsyncEnumerator(_cancellation.Token);
        }

        _pending ??= _items.MoveNextAsync().AsTask();
        var hasItem = await _pending.WaitAsync(timeout);
        _pending = null;
        if (!hasItem)
        {
            return null;
        }

        var item = _items.Current;
        if (item.EventId is { Length: > 0 } id)
        {
            Ids.Add(long.Parse(id, CultureInfo.InvariantCulture));
        }

        return item;
    }

    /// <summary>Reads until an event of <paramref name="eventType"/>, skipping others (pings); fails on a clean end first.</summary>
    public async Task<SseItem<string>> ReadUntilAsync(string eventType, TimeSpan timeout)
    {
        var deadline = timeout == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + timeout;
        while (true)
        {
            var remaining = deadline == DateTime.MaxValue ? Timeout.InfiniteTimeSpan : deadline - DateTime.UtcNow;
            SseItem<string>? item;
            try
            {
                item = await ReadAsync(remaining > TimeSpan.Zero || remaining == Timeout.InfiniteTimeSpan ? remaining : TimeSpan.Zero);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"No '{eventType}' event within {timeout}.");
            }

            if (item is null)
            {
                throw new InvalidOperationException($"The stream ended before a '{eventType}' event.");
            }

            if (item.Value.EventType == eventType)
            {
                return item.Value;
            }
        }
    }

    /// <summary>Every event until the stream ends, with no timeout but the token the connection was opened with.</summary>
    public async IAsyncEnumerable<SseItem<string>> ReadAllAsync()
    {
        while (await ReadAsync(Timeout.InfiniteTimeSpan) is { } item)
        {
            yield return item;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cancellation.CancelAsync();
        Response.Dispose();
        if (_pending is not null)
        {
            try
            {
                await _pending;
            }
            catch (Exception)
            {
                // The read was cut by the dispose above.
            }
        }

        if (_items is not null)
        {
            try
            {
                await _items.DisposeAsync();
            }
            catch (Exception)
            {
                // Same.
            }
        }

        _cancellation.Dispose();
    }

    private static HttpRequestMessage Get(HttpClient client, Uri url, Action<HttpRequestMessage>? configure, string? lastEventId)
    {
        ArgumentNullException.ThrowIfNull(client);
        var request = new HttpRequestMessage(HttpMethod.Get, url)
        {
            // A hand-made request does not pick up the client's default version.
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
        };
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        configure?.Invoke(request);
        return request;
    }
}
