package playbook

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// BatchSizes computes the batch sizes of a play from its serial keyword
// (an int, a percentage string, or a list of those whose last entry
// repeats), as Ansible does: a percentage is truncated, at least 1; serial 0
// or unset means one batch of every host.
func BatchSizes(serial any, n int) ([]int, error) {
	if serial == nil || n == 0 {
		return []int{n}, nil
	}
	var specs []any
	if l, ok := serial.([]any); ok {
		specs = l
	} else {
		specs = []any{serial}
	}
	if len(specs) == 0 {
		return []int{n}, nil
	}
	var sizes []int
	left := n
	for i := 0; left > 0; i++ {
		spec := specs[min(i, len(specs)-1)]
		size, err := serialSize(spec, n)
		if err != nil {
			return nil, err
		}
		if size <= 0 || size > left {
			size = left
		}
		sizes = append(sizes, size)
		left -= size
	}
	return sizes, nil
}

func serialSize(v any, n int) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case float64:
		return int(x), nil
	case string:
		s := strings.TrimSpace(x)
		if strings.HasSuffix(s, "%") {
			pct, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
			if err != nil {
				return 0, fmt.Errorf("serial: invalid percentage %q", x)
			}
			size := int(math.Floor(pct / 100 * float64(n)))
			if size < 1 {
				size = 1
			}
			return size, nil
		}
		i, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("serial: expected a number, a percentage or a list of those, got %q", x)
		}
		return i, nil
	}
	return 0, fmt.Errorf("serial: expected a number, a percentage or a list of those, got %v", v)
}
