using Metrics.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Metrics.Api.Apis;

/// <summary>Who answered: lets clients and tests see which replica and protocol served them.</summary>
public static class InstanceApi
{
    public static IEndpointRouteBuilder MapInstanceApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/instance", GetInstance)
            .WithName("GetInstance")
            .WithSummary("The service, replica instance id and HTTP protocol of this request.");
        return routes;
    }

    public static Ok<InstanceInfo> GetInstance(HttpContext context, IConfiguration configuration) =>
        TypedResults.Ok(new InstanceInfo(
            Service: configuration["OTEL_SERVICE_NAME"] ?? context.RequestServices.GetRequiredService<IHostEnvironment>().ApplicationName,
            InstanceId: InstanceIdentity.From(configuration),
            Protocol: context.Request.Protocol));
}

public sealed record InstanceInfo(string Service, string InstanceId, string Protocol);
