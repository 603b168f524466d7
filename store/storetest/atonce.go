package storetest

import "sync"

// atOnce runs f(0) … f(n-1) in n goroutines released together, as racing
// callers would, and returns their results in order.
func atOnce[T any](n int, f func(i int) (T, error)) ([]T, []error) {
	var wg sync.WaitGroup
	got, errs := make([]T, n), make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			got[i], errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return got, errs
}
