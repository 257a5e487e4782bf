// Run by LifecycleTests against the fake library: prints the exception the wrapper raises.
using System;
using Paytrim.Auth;

class AbiProbe
{
    static int Main()
    {
        try
        {
            using (new PaytrimAuthClient("id", "secret")) { }
            Console.WriteLine("NO EXCEPTION");
            return 1;
        }
        catch (Exception e)
        {
            Console.WriteLine(e.GetType().FullName + ": " + e.Message);
            return 0;
        }
    }
}
