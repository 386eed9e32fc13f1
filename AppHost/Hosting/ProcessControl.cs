using System.Diagnostics;
using System.Runtime.InteropServices;

namespace AppHost.Hosting;

/// <summary>Graceful stop (SIGTERM, so streams drain) with a hard kill of the whole tree as the fallback.</summary>
internal static partial class ProcessControl
{
    private const int SigTerm = 15;

    public static void RequestStop(Process process)
    {
        if (OperatingSystem.IsWindows())
        {
            Kill(process);
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                _ = SendSignal(process.Id, SigTerm);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
    }

    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
