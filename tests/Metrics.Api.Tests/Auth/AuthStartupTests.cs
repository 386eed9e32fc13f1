using Metrics.Api.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Tests.Auth;

/// <summary>Settings that would weaken authentication, or leak tickets, stop the service at start-up with a clear message.</summary>
public class AuthStartupTests
{
    private static readonly string s_shortKey = Convert.ToBase64String(new byte[16]);

    public static TheoryData<string, string?, string, string> InvalidSettings() => new()
    {
        { "StreamTickets:SigningKey", s_shortKey, "Production", "StreamTickets:SigningKey must be base64 of at least 32" },
        { "StreamTickets:SigningKey", "this is not base64 but it is long enough!!", "Production", "StreamTickets:SigningKey must be base64" },
        { "StreamTickets:SigningKey", null, "Production", "SigningKey" },
        { "StreamTickets:SigningKey", Convert.ToBase64String(TestTokens.DevelopmentKey), "Development", "must not be the development issuer's key" },
        { "StreamTickets:Audience", TestTokens.Audience, "Production", "StreamTickets:Audience must differ" },
        { "StreamTickets:Audience", TestTokens.DevelopmentAudience, "Development", "StreamTickets:Audience must differ" },
        { "StreamTickets:Issuer", TestTokens.Issuer, "Production", "StreamTickets:Issuer must differ" },
        { "StreamTickets:Lifetime", "00:00:00", "Production", "Lifetime" },
        { "StreamTickets:Lifetime", "00:10:00", "Production", "Lifetime" },
        { "StreamTickets:ClockSkew", "00:05:00", "Production", "ClockSkew" },
        { "StreamTickets:MaxLength", "100000", "Production", "MaxLength" },
        { "StreamTickets:RateLimit:TokenLimit", "0", "Production", "TokenLimit" },
        { "AccessTokens:ClockSkew", "00:05:00", "Production", "ClockSkew" },
        { "AccessTokens:MaxLength", "100", "Production", "MaxLength" },
        { "Streaming:Limits:MaxStreamsPerUser", "0", "Production", "MaxStreamsPerUser" },
        { "Streaming:Server:MaxRequestLineSize", "100", "Production", "MaxRequestLineSize" },
        { "Authentication:Schemes:Bearer:ValidAudiences:0", "", "Production", "names no audience" },
        { "DevelopmentIssuer:SigningKey", Convert.ToBase64String(TestTokens.DevelopmentKey), "Production", "DevelopmentIssuer is configured in the 'Production' environment" },
        { "DevelopmentIssuer:SigningKey", s_shortKey, "Development", "DevelopmentIssuer:SigningKey must be base64 of at least 32 bytes" },
        { "OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION", "true", "Production", "OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION=true" },
        { "OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION", "True", "Staging", "OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION=True" },
        { "DOTNET_SYSTEM_NET_HTTP_DISABLEURIREDACTION", "1", "Production", "DOTNET_SYSTEM_NET_HTTP_DISABLEURIREDACTION=1" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task Unsafe_settings_stop_the_service_at_start_up_with_a_message_naming_them(string key, string? value, string environment, string message)
    {
        var settings = new Dictionary<string, string?> { [key] = value };
        if (key == "DevelopmentIssuer:SigningKey")
        {
            settings["DevelopmentIssuer:Issuer"] = TestTokens.DevelopmentIssuer;
            settings["DevelopmentIssuer:Audience"] = TestTokens.DevelopmentAudience;
        }
        else if (key.StartsWith("StreamTickets:Audience", StringComparison.Ordinal) && environment == "Development")
        {
            foreach (var (name, setting) in TestTokens.DevelopmentIssuerSettings())
            {
                settings[name] = setting;
            }
        }
        else if (key == "StreamTickets:SigningKey" && environment == "Development")
        {
            foreach (var (name, setting) in TestTokens.DevelopmentIssuerSettings())
            {
                settings[name] = setting;
            }

            settings[key] = value;
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await TestApp.StartAsync(settings, environment: environment));

        var validation = error as OptionsValidationException ?? error.InnerException as OptionsValidationException;
        Assert.True(validation is not null, error.ToString());
        Assert.Contains(message, validation.Message, StringComparison.Ordinal);
        // Never the secret itself.
        if (key.EndsWith("SigningKey", StringComparison.Ordinal) && value is { Length: > 8 })
        {
            Assert.DoesNotContain(value, validation.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION")]
    [InlineData("OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION")]
    [InlineData("DOTNET_SYSTEM_NET_HTTP_DISABLEURIREDACTION")]
    public async Task In_Development_switching_query_redaction_off_is_allowed_as_Aspire_does(string key)
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { [key] = "true" });

        Assert.Empty(app.Logs.Errors);
    }

    [Fact]
    public async Task Production_with_every_required_setting_starts()
    {
        await using var app = await TestApp.StartAsync(environment: "Production");

        Assert.Empty(app.Logs.Errors);
    }

    [Fact]
    public async Task Development_without_a_ticket_key_starts_with_a_random_one_and_says_so()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["StreamTickets:SigningKey"] = "" });
        using var client = app.CreateHttp1Client(null);

        var ticket = await Requests.TicketAsync(client, TestTokens.DefaultAccessToken);

        Assert.Equal(System.Net.HttpStatusCode.OK, (await Requests.GetAsync(client, Requests.TicketQuery(ticket))).Status);
        Assert.Contains(app.Logs.Entries, e => e.Contains("EphemeralStreamTicketKey", StringComparison.Ordinal) || e.Contains("[1208]", StringComparison.Ordinal));
    }
}
