using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Edge.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Edge.Proxy.Tests;

/// <summary>
/// Once an event stream is flowing, the edge holds no copy of the caller's bearer token: the upstream got it, then the
/// client's request and the forwarded request both drop it, and the stream goes on. Other responses are left alone.
/// </summary>
public sealed class BearerTokenReleaseTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(ClientProtocol.Http2Tls)]
    [InlineData(ClientProtocol.Http11)]
    public async Task An_open_stream_keeps_no_copy_of_the_bearer_token(string protocol)
    {
        var capture = new Capture();
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream, configureServices: capture.Register);
        var (client, baseUrl) = ClientProtocol.For(protocol, edge);
        using var _ = client;
        var token = $"secret-{Guid.NewGuid():N}";
        var id = $"release-{protocol}";

        await using var stream = await SseConnection.ConnectAsync(
            client,
            new Uri(baseUrl, $"/api/stream/metrics?id={id}&events=1"),
            request => request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        await stream.ReadUntilAsync("ready", Step);

        Assert.Equal($"Bearer {token}", upstream.Streams[id].Request.Headers["Authorization"]);
        var (edgeRequest, forwarded) = capture.Single();
        Assert.Equal(0, edgeRequest.Request.Headers.Authorization.Count);
        Assert.Null(forwarded.Headers.Authorization);
        Assert.Equal((string.Empty, string.Empty), capture.AuthorizationAfterTransforms());
        Assert.Equal("1", (await stream.ReadUntilAsync("tick", Step)).Data);
    }

    [Fact]
    public async Task A_response_that_is_not_a_stream_leaves_the_request_as_it_came()
    {
        var capture = new Capture();
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream, configureServices: capture.Register);
        using var client = Clients.Http11();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(edge.HttpUrl, "/api/echo/anything"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "kept");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(("Bearer kept", "Bearer kept"), capture.AuthorizationAfterTransforms());
    }

    /// <summary>The edge's side of each /api request: its live <see cref="HttpContext"/> and the request it forwarded.</summary>
    private sealed class Capture : ITransformProvider
    {
        private readonly LiveRequests _requests = new("/api");
        private readonly ConcurrentQueue<HttpRequestMessage> _forwarded = new();
        private readonly ConcurrentQueue<(string Edge, string Forwarded)> _authorization = new();

        public void Register(IServiceCollection services)
        {
            _requests.Register(services);
            services.AddSingleton<ITransformProvider>(this);
        }

        public (HttpContext Request, HttpRequestMessage Forwarded) Single() => (Assert.Single(_requests.Seen), Assert.Single(_forwarded));

        /// <summary>The Authorization header of the client's and of the forwarded request, once the edge's response transforms ran.</summary>
        public (string Edge, string Forwarded) AuthorizationAfterTransforms() => Assert.Single(_authorization);

        public void ValidateRoute(TransformRouteValidationContext context)
        {
        }

        public void ValidateCluster(TransformClusterValidationContext context)
        {
        }

        // Registered after the edge's own providers, so this runs after the edge's response transform.
        public void Apply(TransformBuilderContext context) => context.AddResponseTransform(transformContext =>
        {
            if (transformContext.ProxyResponse?.RequestMessage is { } forwarded)
            {
                _forwarded.Enqueue(forwarded);
                _authorization.Enqueue((
                    transformContext.HttpContext.Request.Headers.Authorization.ToString(),
                    forwarded.Headers.Authorization?.ToString() ?? string.Empty));
            }

            return default;
        });
    }
}
