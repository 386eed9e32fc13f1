using System.Net.ServerSentEvents;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>One open SSE response, read item by item with <see cref="SseParser"/>.</summary>
public sealed class SseConnection : IAsyncDisposable
{
    public const string StreamPath = "/api/stream/metrics";

    private readonly CancellationTokenSource _cancellation = new();
    private readonly IAsyncEnumerator<SseItem<string>> _items;
    private Task<bool>? _pending;

    private SseConnection(HttpResponseMessage response, Stream body)
    {
        Response = response;
        Parser = SseParser.Create(body);
        _items = Parser.EnumerateAsync(_cancellation.Token).GetAsyncEnumerator(_cancellation.Token);
    }

    public HttpResponseMessage Response { get; }

    public SseParser<string> Parser { get; }

    /// <summary>Ids of the events read so far that carried one, in order.</summary>
    public List<long> Ids { get; } = [];

    public static async Task<SseConnection> OpenAsync(
        HttpClient client, string pathAndQuery = StreamPath, string? lastEventId = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery)
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

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadAsStringAsync(timeout.Token);
            response.Dispose();
            throw new HttpRequestException($"{(int)response.StatusCode} HTTP/{response.Version} from {client.BaseAddress}: {problem}");
        }
        var body = await response.Content.ReadAsStreamAsync(timeout.Token);
        return new SseConnection(response, body);
    }

    /// <summary>The next event, or null when the server ended the stream cleanly.</summary>
    public async Task<SseItem<string>?> ReadAsync(TimeSpan timeout)
    {
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
            Ids.Add(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture));
        }

        return item;
    }

    /// <summary>Reads until an event of <paramref name="eventType"/> arrives; fails on a clean end first.</summary>
    public async Task<SseItem<string>> ReadUntilAsync(string eventType, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var remaining = deadline - DateTime.UtcNow;
            var item = await ReadAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero)
                ?? throw new InvalidOperationException($"The stream ended before a '{eventType}' event.");
            if (item.EventType == eventType)
            {
                return item;
            }
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

        try
        {
            await _items.DisposeAsync();
        }
        catch (Exception)
        {
            // Same.
        }

        _cancellation.Dispose();
    }
}
