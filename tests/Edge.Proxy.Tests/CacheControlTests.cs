using Edge.Proxy.Forwarding;
using Microsoft.Extensions.Primitives;

namespace Edge.Proxy.Tests;

/// <summary>The Cache-Control the edge gives a stream response (<see cref="StreamTransformProvider"/>).</summary>
public sealed class CacheControlTests
{
    [Theory]
    [InlineData("no-cache,no-store", "no-cache, no-store, no-transform")]
    [InlineData("", "no-cache, no-transform")]
    [InlineData("max-age=0, No-Transform", "max-age=0, No-Transform, no-cache")]
    public void Cache_control_keeps_upstream_directives_and_adds_no_cache_and_no_transform(string upstream, string expected)
    {
        Assert.Equal(expected, StreamTransformProvider.WithStreamDirectives(new StringValues(upstream)));
    }
}
