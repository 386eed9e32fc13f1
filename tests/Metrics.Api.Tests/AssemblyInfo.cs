// Tests open hundreds of sockets, measure threads and memory and start real processes: run them one
// at a time so each sees a quiet process and its bounds stay meaningful on a loaded 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
