using Microsoft.Extensions.DependencyInjection;

namespace AppHost;

internal static class StreamCommands
{
    /// <summary>
    /// "Rebalance streams" in the Aspire dashboard: ends every stream of a replica with a jittered <c>reconnect</c>,
    /// so its clients spread over all replicas. Runs once per replica, against that replica's own port.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithRebalanceStreamsCommand(
        this IResourceBuilder<ProjectResource> metricsApi, IResourceBuilder<ParameterResource> adminKey) => metricsApi
        .WithEnvironment("StreamAdmin__ApiKey", adminKey)
        .WithCommand("rebalance-streams", "Rebalance streams", async context =>
        {
            var notifications = context.Services.GetRequiredService<ResourceNotificationService>();
            if (!notifications.TryGetCurrentState(context.ResourceName, out var replica)
                || replica.Snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "Kestrel__Endpoints__http__Url")?.Value is not { } url)
            {
                return CommandResults.Failure($"{context.ResourceName} is not running.");
            }

            using var client = new HttpClient { BaseAddress = new Uri(url) };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/streams/rebalance");
            request.Headers.Add("X-Admin-Key", await adminKey.Resource.GetValueAsync(context.CancellationToken));
            using var response = await client.SendAsync(request, context.CancellationToken);
            return response.IsSuccessStatusCode
                ? CommandResults.Success(await response.Content.ReadAsStringAsync(context.CancellationToken))
                : CommandResults.Failure($"{context.ResourceName} answered {(int)response.StatusCode}.");
        }, new CommandOptions { Description = "Ends every stream on this replica with a jittered reconnect.", IconName = "ArrowSync" });
}
