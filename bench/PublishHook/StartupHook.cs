using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PublishHook;

/// <summary>
/// The entry point the runtime calls before <c>Main</c> when this assembly is named in
/// <c>DOTNET_STARTUP_HOOKS</c> (the runtime requires this exact name, in no namespace).
/// </summary>
/// <remarks>
/// It listens for the "HostBuilding" diagnostic event that every .NET host raises just before it builds its
/// service provider (the same event <c>WebApplicationFactory</c> uses to reach into a minimal-API app), and adds
/// <see cref="BenchPublisher"/> there. The service's own code and configuration stay untouched.
/// </remarks>
#pragma warning disable CA1050 // The runtime looks the hook up by this exact global type name.
internal static class StartupHook
#pragma warning restore CA1050
{
    public static void Initialize() => DiagnosticListener.AllListeners.Subscribe(new HostListener());

    private sealed class HostListener : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
    {
        private int _added;

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == "Microsoft.Extensions.Hosting")
            {
                value.Subscribe(this);
            }
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Key == "HostBuilding" && value.Value is IHostBuilder host && Interlocked.Exchange(ref _added, 1) == 0)
            {
                host.ConfigureServices(static (_, services) => services.AddHostedService<BenchPublisher>());
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }
}
