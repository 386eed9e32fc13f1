using Edge.Proxy.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using ServiceDefaults.Redaction;

namespace Edge.Proxy.Tests;

public sealed class QueryStringRedactorTests
{
    private readonly QueryStringRedactor _redactor = new(["ticket", "access_token"], ["lastEventId", "probe"]);

    [Theory]
    [InlineData("http://h:1/api/stream/m?ticket=abc.def-ghi&x=1", "http://h:1/api/stream/m?ticket=[redacted]&x=[redacted]")]
    [InlineData("?x=1&Access_Token=abc", "?x=[redacted]&Access_Token=[redacted]")]
    [InlineData("ticket=abc", "ticket=[redacted]")]
    [InlineData("Proxying to http://h/p?TICKET=abc HTTP/2", "Proxying to http://h/p?TICKET=[redacted] HTTP/2")]
    [InlineData("/login?returnUrl=%2Fapi%3Fticket%3Dabc", "/login?returnUrl=[redacted]")]
    [InlineData("http://h/p?ticketing=abc&myticket=def", "http://h/p?ticketing=[redacted]&myticket=[redacted]")]
    [InlineData("http://h/ticket/abc?x=1", "http://h/ticket/abc?x=[redacted]")]
    [InlineData("http://h/p?lastEventId=7&probe=CONTROL", "http://h/p?lastEventId=7&probe=CONTROL")]
    [InlineData("http://h/p?LASTEVENTID=7&x=", "http://h/p?LASTEVENTID=7&x=")]
    [InlineData("http://h/p?token=eyJhbGciOi.x.y&page=2", "http://h/p?token=[redacted]&page=[redacted]")]
    [InlineData("http://h/p?eyJhbGciOi.x.y", "http://h/p?[redacted]")]
    [InlineData("GET /p?a=1 and later ?b=2", "GET /p?a=[redacted] and later ?b=[redacted]")]
    [InlineData("\"url\":\"/p?code=abc\"", "\"url\":\"/p?code=[redacted]\"")]
    [InlineData("no query here", "no query here")]
    public void Redacts_every_query_value_but_the_harmless_ones(string input, string expected)
    {
        Assert.Equal(expected, _redactor.Redact(input));
    }

    /// <summary>The server decodes a name before it looks it up (<c>tick%65t</c> is <c>ticket</c>), so the redactor does too.</summary>
    [Theory]
    [InlineData("/api/stream/metrics?tick%65t=SECRET")]
    [InlineData("/api/stream/metrics?%74%69%63%6B%65%74=SECRET")]
    [InlineData("/api/stream/metrics?TiCk%45T=SECRET")]
    [InlineData("/api/stream/metrics?access%5Ftoken=SECRET")]
    [InlineData("/api/stream/metrics?access%5ftoken=SECRET")]
    [InlineData("/api/stream/metrics?lastEventId=1&tick%2565t=SECRET")]
    [InlineData("/api/stream/metrics?x=1&&ticket=SECRET&")]
    [InlineData("/api/stream/metrics?ticket=SECRET&ticket=SECRET")]
    [InlineData("/api/stream/metrics?ticket=SECRET;lastEventId=1")]
    [InlineData("/api/stream/metrics?lastEventId=1;ticket=SECRET")]
    [InlineData("/api/stream/metrics?probe=%3Fticket%3DSECRET")]
    [InlineData("/api/stream/metrics?probe=x?tick%65t=SECRET")]
    [InlineData("/api/stream/metrics?ticket%3DSECRET")]
    [InlineData("/api/stream/metrics?t%C4%B1cket=SECRET")]
    [InlineData("/api/stream/metrics?ticket+=SECRET")]
    [InlineData("/api/stream/metrics?=SECRET")]
    [InlineData("/api/stream/metrics??ticket=SECRET")]
    [InlineData("tick%65t=SECRET&x=1")]
    [InlineData("x=1 access%5Ftoken=SECRET")]
    public void A_ticket_in_any_spelling_of_the_name_is_redacted(string text)
    {
        Assert.DoesNotContain("SECRET", _redactor.Redact(text), StringComparison.Ordinal);
        Assert.True(_redactor.MayContainSecret(text));
    }

    [Theory]
    [InlineData("?ticket=SECRET&page=2", "?ticket=[redacted]&page=[redacted]")]
    [InlineData("tick%65t=SECRET&lastEventId=3", "tick%65t=[redacted]&lastEventId=3")]
    [InlineData("lastEvent%49d=3&probe=ok", "lastEvent%49d=3&probe=ok")]
    [InlineData("token=SECRET", "token=[redacted]")]
    public void A_bare_query_string_is_redacted_as_the_server_reads_it(string query, string expected)
    {
        Assert.Equal(expected, _redactor.RedactQuery(query));
    }

    [Fact]
    public void Text_without_anything_to_redact_is_returned_as_is()
    {
        const string text = "Request finished HTTP/2 GET https://h/api/stream/metrics?lastEventId=12 - 200";

        Assert.Same(text, _redactor.Redact(text));
        Assert.False(_redactor.MayContainSecret(text));
    }

    [Fact]
    public void Configured_names_are_redacted_too_and_a_sensitive_name_is_never_allowed()
    {
        var options = new QueryRedactionOptions { QueryParameters = { "code" }, AllowedQueryParameters = { "page", "code" } };
        var redactor = new QueryStringRedactor(options.QueryParameters, options.AllowedQueryParameters);

        Assert.Equal("?code=[redacted]&ticket=[redacted]&page=2", redactor.Redact("?code=1&ticket=2&page=2"));
        Assert.Equal("x code=[redacted]", redactor.Redact("x code=1"));
    }

    [Fact]
    public void Structured_log_values_and_the_message_are_both_redacted()
    {
        var capture = new LogCapture();
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(logging => logging.AddProvider(capture)), _redactor);
        var logger = factory.CreateLogger("test");

        var target = new Uri("http://h/p?ticket=abc&x=1");
#pragma warning disable CA1873 // a plain structured log call is exactly what this test needs
        logger.LogInformation("Proxying to {TargetUrl} after {Attempts} attempts", target, 2);
#pragma warning restore CA1873

        var entry = Assert.Single(capture.Entries);
        Assert.Equal("Proxying to http://h/p?ticket=[redacted]&x=[redacted] after 2 attempts", entry.Message);
        Assert.Contains("TargetUrl=http://h/p?ticket=[redacted]&x=[redacted]", entry.Values);
        Assert.Contains("Attempts=2", entry.Values);
        Assert.Contains("{OriginalFormat}=Proxying to {TargetUrl} after {Attempts} attempts", entry.Values);
        Assert.DoesNotContain("abc", entry.AllText, StringComparison.Ordinal);
    }
}
