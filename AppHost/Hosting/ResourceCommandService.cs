namespace AppHost.Hosting;

/// <summary>Aspire's well-known resource commands.</summary>
public static class KnownResourceCommands
{
    public const string StopCommand = "resource-stop";
    public const string StartCommand = "resource-start";
    public const string RestartCommand = "resource-restart";
}

public sealed record ExecuteCommandResult(bool Success, string? ErrorMessage = null);

/// <summary>
/// Stop, start and restart a resource while the application runs, shaped like Aspire's
/// ResourceCommandService: a stopped resource keeps its ports, so clients reconnect to the same place.
/// </summary>
public sealed class ResourceCommandService
{
    private readonly Orchestrator _orchestrator;

    internal ResourceCommandService(Orchestrator orchestrator) => _orchestrator = orchestrator;

    public async Task<ExecuteCommandResult> ExecuteCommandAsync(string resourceName, string commandName, CancellationToken cancellationToken = default)
    {
        try
        {
            switch (commandName)
            {
                case KnownResourceCommands.StopCommand:
                    await _orchestrator.StopResourceAsync(resourceName).WaitAsync(cancellationToken);
                    break;
                case KnownResourceCommands.StartCommand:
                    _orchestrator.StartResource(resourceName);
                    break;
                case KnownResourceCommands.RestartCommand:
                    await _orchestrator.StopResourceAsync(resourceName).WaitAsync(cancellationToken);
                    _orchestrator.StartResource(resourceName);
                    break;
                default:
                    return new ExecuteCommandResult(false, $"Unknown command '{commandName}'.");
            }

            return new ExecuteCommandResult(true);
        }
        catch (Exception failed) when (failed is ArgumentException or InvalidOperationException or IOException)
        {
            return new ExecuteCommandResult(false, failed.Message);
        }
    }
}
