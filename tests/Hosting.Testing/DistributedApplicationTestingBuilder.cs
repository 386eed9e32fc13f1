using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AppHost.Hosting.Testing;

/// <summary>
/// Runs an AppHost's entry point up to <c>builder.Build()</c> and hands its builder to the test,
/// as Aspire.Hosting.Testing does, so tests start exactly the graph <c>dotnet run --project AppHost</c> starts.
/// Ports are randomized (the edge's fixed HTTPS port too), so tests can run side by side.
/// </summary>
public static class DistributedApplicationTestingBuilder
{
    private static readonly TimeSpan EntryPointTimeout = TimeSpan.FromSeconds(30);

    public static Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(CancellationToken cancellationToken = default)
        where TEntryPoint : class => CreateAsync<TEntryPoint>([], cancellationToken);

    public static async Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(string[] args, CancellationToken cancellationToken = default)
        where TEntryPoint : class
    {
        var entryPoint = typeof(TEntryPoint).Assembly.EntryPoint
            ?? throw new InvalidOperationException($"Assembly of {typeof(TEntryPoint)} has no entry point.");
        string[] testArgs = ["--environment=Development", "--AppHost:RandomizePorts=true", .. args];
        var capture = new BuilderCapture();

        using var subscription = DiagnosticListener.AllListeners.Subscribe(capture);
        var thread = new Thread(() => capture.RunEntryPoint(entryPoint, testArgs)) { IsBackground = true, Name = "AppHost entry point" };
        BuilderCapture.Current.Value = capture;
        try
        {
            thread.Start();
        }
        finally
        {
            BuilderCapture.Current.Value = null;
        }

        var builder = await capture.Builder.WaitAsync(EntryPointTimeout, cancellationToken);
        return new TestingBuilder(builder);
    }

    private sealed class BuilderCapture : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
    {
        // Flows into the entry-point thread only, so parallel tests never capture each other's builders.
        public static readonly AsyncLocal<BuilderCapture?> Current = new();

        private readonly TaskCompletionSource<DistributedApplicationBuilder> _builder = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<DistributedApplicationBuilder> Builder => _builder.Task;

        public void RunEntryPoint(MethodInfo entryPoint, string[] args)
        {
            try
            {
                entryPoint.Invoke(null, entryPoint.GetParameters().Length == 0 ? [] : [args]);
                _builder.TrySetException(new InvalidOperationException("The AppHost's entry point returned without building the application."));
            }
            catch (TargetInvocationException invocation) when (invocation.InnerException is StopTheEntryPointException)
            {
            }
            catch (TargetInvocationException invocation)
            {
                _builder.TrySetException(invocation.InnerException ?? invocation);
            }
        }

        public void OnNext(DiagnosticListener listener)
        {
            if (listener.Name == DiagnosticNames.ListenerName)
            {
                listener.Subscribe(this);
            }
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (Current.Value != this || value.Key != DiagnosticNames.BuilderBuilding || value.Value is not DistributedApplicationBuilder builder)
            {
                return;
            }

            if (_builder.TrySetResult(builder))
            {
                // Stop the entry point before it builds and runs: the test builds and starts it instead.
                throw new StopTheEntryPointException();
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }

    private sealed class StopTheEntryPointException : Exception
    {
        public StopTheEntryPointException()
            : base("The testing builder stops the AppHost's entry point here.")
        {
        }
    }

    private sealed class TestingBuilder(DistributedApplicationBuilder inner) : IDistributedApplicationTestingBuilder
    {
        private DistributedApplication? _application;

        public ConfigurationManager Configuration => inner.Configuration;

        public IHostEnvironment Environment => inner.Environment;

        public IServiceCollection Services => inner.Services;

        public IList<IResource> Resources => inner.Resources;

        public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource => inner.AddResource(resource);

        public IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource => inner.CreateResourceBuilder(resource);

        public DistributedApplication Build() => _application = inner.Build();

        public Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default) => Task.FromResult(Build());

        public async ValueTask DisposeAsync()
        {
            if (_application is not null)
            {
                await _application.DisposeAsync();
            }
        }
    }
}

public interface IDistributedApplicationTestingBuilder : IDistributedApplicationBuilder, IAsyncDisposable
{
    Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default);
}
