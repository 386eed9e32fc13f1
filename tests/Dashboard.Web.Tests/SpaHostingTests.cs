using System.Net;
using System.Text.RegularExpressions;
using Dashboard.Web.Tests.Infrastructure;

namespace Dashboard.Web.Tests;

/// <summary>The single-page app: index.html never cached stale, hashed assets cached forever, deep links work.</summary>
public sealed partial class SpaHostingTests
{
    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Root_IsIndexHtml_WithNoCache(string environment)
    {
        await using var app = DashboardApp.Start(environment);
        using var browser = app.CreateBrowser();

        using var response = await browser.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoCache, $"Cache-Control: {response.Headers.CacheControl}");
        Assert.Contains("<div id=\"root\"></div>", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/dashboard")]
    [InlineData("/instances/a1b2c3d4/details")]
    public async Task DeepLinks_FallBackToIndexHtml_WithNoCache(string path)
    {
        await using var app = DashboardApp.Start("Production");
        using var browser = app.CreateBrowser();

        using var response = await browser.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoCache, $"Cache-Control: {response.Headers.CacheControl}");
        Assert.Contains("<div id=\"root\"></div>", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task HashedAssets_AreCachedForAYear_AsImmutable(string environment)
    {
        await using var app = DashboardApp.Start(environment);
        using var browser = app.CreateBrowser();
        using var index = await browser.GetAsync("/");
        var assets = AssetReference().Matches(await index.Content.ReadAsStringAsync()).Select(m => m.Groups["path"].Value).Distinct().ToList();
        Assert.Contains(assets, a => a.EndsWith(".js", StringComparison.Ordinal));
        Assert.Contains(assets, a => a.EndsWith(".css", StringComparison.Ordinal));

        foreach (var asset in assets)
        {
            using var response = await browser.GetAsync(asset);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var cacheControl = response.Headers.CacheControl;
            Assert.NotNull(cacheControl);
            Assert.Equal(TimeSpan.FromDays(365), cacheControl.MaxAge);
            Assert.Contains(cacheControl.Extensions, e => e.Name == "immutable");
            Assert.False(cacheControl.NoCache);
            Assert.NotNull(response.Headers.ETag);
        }
    }

    [Fact]
    public async Task HashedAssets_AreServedCompressed()
    {
        // The build keeps compressed copies beside the build output (Development's static web assets
        // find them); a publish puts them in wwwroot for every environment.
        await using var app = DashboardApp.Start("Development");
        using var browser = app.CreateBrowser();
        using var index = await browser.GetAsync("/");
        var script = AssetReference().Matches(await index.Content.ReadAsStringAsync()).Select(m => m.Groups["path"].Value).First(a => a.EndsWith(".js", StringComparison.Ordinal));

        using var request = new HttpRequestMessage(HttpMethod.Get, script);
        request.Headers.AcceptEncoding.ParseAdd("gzip");
        using var response = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("gzip", response.Content.Headers.ContentEncoding);
        Assert.Contains(response.Headers.CacheControl!.Extensions, e => e.Name == "immutable");
    }

    [Theory]
    [InlineData("/assets/index-missing.js")]
    [InlineData("/favicon.ico")]
    public async Task MissingFiles_Are404_NotThePage(string path)
    {
        await using var app = DashboardApp.Start("Production");
        using var browser = app.CreateBrowser();

        using var response = await browser.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotEqual("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/bff/nothing-here")]
    [InlineData("/api/stream/metrics")]
    [InlineData("/api")]
    public async Task BffAndApiPaths_AreNeverThePage(string path)
    {
        await using var app = DashboardApp.Start("Production");
        using var browser = app.CreateBrowser();

        using var response = await browser.GetAsync(path);

        await SessionTests.AssertProblem(response, HttpStatusCode.NotFound, "urn:dashboard:not-found");
    }

    [Fact]
    public async Task PostToAPageRoute_IsNotThePage()
    {
        await using var app = DashboardApp.Start("Production");
        using var browser = app.CreateBrowser();

        using var response = await browser.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/dashboard"));

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task HealthEndpoints_AreNotThePage()
    {
        await using var app = DashboardApp.Start("Production");
        using var browser = app.CreateBrowser(throughEdge: false);

        using var response = await browser.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("""(?:src|href)="(?<path>/assets/[^"]+)" """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex AssetReference();
}
