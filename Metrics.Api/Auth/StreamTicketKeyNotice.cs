using Microsoft.Extensions.Options;

namespace Metrics.Api.Auth;

/// <summary>Says so at start-up when tickets are signed with a key made up for this process (Development only).</summary>
public sealed class StreamTicketKeyNotice(IOptions<StreamTicketOptions> options, ILogger<StreamTicketKeyNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.KeyIsEphemeral)
        {
            AuthLog.EphemeralTicketKey(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
