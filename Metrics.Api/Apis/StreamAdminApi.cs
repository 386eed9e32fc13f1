using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Metrics.Api.Streaming;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Apis;

/// <summary>
/// Operator actions on this replica's streams, for the AppHost's resource commands (Aspire dashboard) and scripts.
/// Mapped only when <c>StreamAdmin:ApiKey</c> is set; the key travels in <c>X-Admin-Key</c>. The edge routes only
/// <c>/api/**</c> here, so these endpoints are never public.
/// </summary>
public static class StreamAdminApi
{
    public const string KeyHeader = "X-Admin-Key";

    public static TBuilder AddStreamAdmin<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<StreamAdminOptions>()
            .BindConfiguration(StreamAdminOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return builder;
    }

    public static IEndpointRouteBuilder MapStreamAdminApi(this IEndpointRouteBuilder routes)
    {
        if (routes.ServiceProvider.GetRequiredService<IOptions<StreamAdminOptions>>().Value.ApiKey is null)
        {
            return routes;
        }

        routes.MapPost("/admin/streams/rebalance", Rebalance)
            .WithName("RebalanceStreams")
            .WithSummary("Ends every stream open on this replica with a `reconnect` event and a jittered retry, so its clients spread over all replicas.");
        return routes;
    }

    public static Results<Ok<RebalanceResult>, ProblemHttpResult> Rebalance(
        HttpRequest request, IOptions<StreamAdminOptions> options, StreamSubscribers subscribers)
    {
        var expected = Encoding.UTF8.GetBytes(options.Value.ApiKey!);
        var given = Encoding.UTF8.GetBytes(request.Headers[KeyHeader].ToString());
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: $"A valid {KeyHeader} header is required.");
        }

        return TypedResults.Ok(new RebalanceResult(subscribers.EndOpen(StreamEndReason.Rebalance)));
    }
}

public sealed record RebalanceResult(int EndedStreams);

public sealed class StreamAdminOptions
{
    public const string SectionName = "StreamAdmin";

    /// <summary>The operator key; null (the default) leaves the admin endpoints unmapped.</summary>
    [MinLength(32)]
    public string? ApiKey { get; set; }
}
