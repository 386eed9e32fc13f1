using System.Text;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Runtime;

namespace Tests.Shared;

/// <summary>
/// What this test process is doing right now, for the failure message of something that hangs: every managed
/// thread's stack, and the async methods that are suspended (an <c>await</c> that never returns shows up only there).
/// </summary>
/// <remarks>
/// The runtime writes a dump of this process (its diagnostics IPC, <c>createdump</c>), which ClrMD then reads in
/// process. Seconds and a few hundred megabytes of temporary disk, so only for a failure that is already certain.
/// </remarks>
internal static class HangReport
{
    private const int MaxFramesPerThread = 30;
    private const int MaxAsyncMethods = 60;

    /// <param name="asyncFilter">Which suspended async methods to list (by their state machine's type name).</param>
    public static string Capture(Func<string, bool> asyncFilter)
    {
        var path = Path.Combine(Path.GetTempPath(), $"hang-{Environment.ProcessId}-{Guid.NewGuid():N}.dmp");
        try
        {
            new DiagnosticsClient(Environment.ProcessId).WriteDump(DumpType.WithHeap, path, logDumpGeneration: false);
            using var target = DataTarget.LoadDump(path);
            // The dump is of this process, so its runtime is this one and its data-access library sits beside it (the dump does
            // not record the runtime's version, so ClrMD cannot match it by itself).
            var dac = Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), OperatingSystem.IsWindows() ? "mscordaccore.dll" : "libmscordaccore.so");
            using var runtime = target.ClrVersions[0].CreateRuntime(dac, ignoreMismatch: true);
            var report = new StringBuilder();
            AppendThreads(runtime, report);
            AppendSuspendedAsyncMethods(runtime, asyncFilter, report);
            return report.ToString();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return $"(no thread stacks: {e})";
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AppendThreads(ClrRuntime runtime, StringBuilder report)
    {
        foreach (var thread in runtime.Threads.Where(t => t.IsAlive))
        {
            var frames = thread.EnumerateStackTrace()
                .Where(f => f.Method is not null)
                .Select(f => f.Method!.Signature ?? f.Method.Name ?? "?")
                .Take(MaxFramesPerThread)
                .ToList();
            // Idle pool threads say nothing about a hang.
            if (frames.Count == 0 || frames[0].Contains("LowLevelLifoSemaphore", StringComparison.Ordinal) ||
                frames.Exists(f => f.Contains("PortableThreadPool+GateThread", StringComparison.Ordinal) || f.Contains("PortableThreadPool+WaitThread", StringComparison.Ordinal)))
            {
                continue;
            }

            report.AppendLine($"thread {thread.ManagedThreadId}:");
            frames.ForEach(f => report.AppendLine($"    {f}"));
        }
    }

    private static void AppendSuspendedAsyncMethods(ClrRuntime runtime, Func<string, bool> filter, StringBuilder report)
    {
        var suspended = new List<string>();
        foreach (var box in runtime.Heap.EnumerateObjects())
        {
            if (box.Type?.Name is not { } name || !name.Contains("AsyncStateMachineBox", StringComparison.Ordinal))
            {
                continue;
            }

            var field = box.Type.GetFieldByName("StateMachine");
            if (field is null)
            {
                continue;
            }

            // Release builds make the state machine a struct inside the box, Debug builds a class (whose field type
            // reads as __Canon, so its name comes from the instance).
            var isStruct = field.Type is { IsValueType: true };
            var instance = isStruct ? default : box.ReadObjectField("StateMachine");
            var machine = isStruct ? field.Type!.Name : instance.IsNull ? null : instance.Type?.Name;
            if (machine is null || !filter(machine))
            {
                continue;
            }

            // -1: running or not started, -2: finished; 0 and up: suspended at that await.
            var value = isStruct
                ? box.ReadValueTypeField("StateMachine").ReadField<int>("<>1__state")
                : instance.ReadField<int>("<>1__state");
            if (value >= 0)
            {
                suspended.Add($"    {machine} (at await {value})");
            }
        }

        report.AppendLine($"suspended async methods ({suspended.Count}):");
        suspended.Take(MaxAsyncMethods).ToList().ForEach(m => report.AppendLine(m));
    }
}
