package loadgen

import "sync"

// Burst runs f(0..n-1) in n goroutines released at the same moment, and
// waits for them.
func Burst(n int, f func(i int)) {
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-release
			f(i)
		}()
	}
	ready.Wait()
	close(release)
	done.Wait()
}
