package templates

import (
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"math/big"
)

// mt19937 is CPython's random.Random: the Mersenne Twister, seeded as
// random.seed seeds it, so that Ansible's `random(seed=...)` filter gives
// the same number here.
type mt19937 struct {
	mt  [624]uint32
	idx int
}

func (m *mt19937) initGenrand(s uint32) {
	m.mt[0] = s
	for i := 1; i < 624; i++ {
		m.mt[i] = 1812433253*(m.mt[i-1]^(m.mt[i-1]>>30)) + uint32(i)
	}
	m.idx = 624
}

func (m *mt19937) initByArray(key []uint32) {
	m.initGenrand(19650218)
	i, j := 1, 0
	k := max(624, len(key))
	for ; k > 0; k-- {
		m.mt[i] = (m.mt[i] ^ ((m.mt[i-1] ^ (m.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= 624 {
			m.mt[0] = m.mt[623]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = 623; k > 0; k-- {
		m.mt[i] = (m.mt[i] ^ ((m.mt[i-1] ^ (m.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			m.mt[0] = m.mt[623]
			i = 1
		}
	}
	m.mt[0] = 0x80000000
}

func (m *mt19937) uint32() uint32 {
	if m.idx >= 624 {
		for k := 0; k < 624; k++ {
			y := m.mt[k]&0x80000000 | m.mt[(k+1)%624]&0x7fffffff
			v := m.mt[(k+397)%624] ^ y>>1
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			m.mt[k] = v
		}
		m.idx = 0
	}
	y := m.mt[m.idx]
	m.idx++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// seedPy seeds as random.seed(a) does for a str (version 2: the bytes and
// their SHA-512, read as one big-endian integer) or an int.
func seedPy(a any) (*mt19937, error) {
	var n *big.Int
	switch a := a.(type) {
	case string:
		b := []byte(a)
		sum := sha512.Sum512(b)
		n = new(big.Int).SetBytes(append(b, sum[:]...))
	case int:
		n = big.NewInt(int64(a))
		n.Abs(n)
	case int64:
		n = big.NewInt(a)
		n.Abs(n)
	default:
		return nil, fmt.Errorf("random: a seed must be a string or an integer, got %s", typeName(a))
	}
	// The integer as 32-bit words, least significant first.
	be := n.Bytes()
	var key []uint32
	for end := len(be); end > 0; end -= 4 {
		var w [4]byte
		start := max(end-4, 0)
		copy(w[4-(end-start):], be[start:end])
		key = append(key, binary.BigEndian.Uint32(w[:]))
	}
	if len(key) == 0 {
		key = []uint32{0}
	}
	m := &mt19937{}
	m.initByArray(key)
	return m, nil
}

// below is Random._randbelow(n) for 0 < n < 2**32.
func (m *mt19937) below(n int) int {
	k := 0
	for x := n; x > 0; x >>= 1 {
		k++
	}
	for {
		r := int(m.uint32() >> (32 - k))
		if r < n {
			return r
		}
	}
}

// pyRandom is Ansible's random filter: a number from range(start, end,
// step) for an integer end, an element for a list or string; with a seed
// the same one Ansible picks for that seed, without one a new one each
// time. start, step and seed are nil when not given.
func pyRandom(start, step, seed, end any) (any, error) {
	below := func(n int) (int, error) {
		if n <= 0 || n >= 1<<32 {
			return 0, fmt.Errorf("random: empty or too large range (%d)", n)
		}
		if seed == nil {
			r, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
			if err != nil {
				return 0, err
			}
			return int(r.Int64()), nil
		}
		m, err := seedPy(seed)
		if err != nil {
			return 0, err
		}
		return m.below(n), nil
	}
	if e, ok := end.(int); ok {
		st, sp := 0, 1
		if start != nil {
			v, ok := start.(int)
			if !ok {
				return nil, fmt.Errorf("random: start must be an integer")
			}
			st = v
		}
		if step != nil {
			v, ok := step.(int)
			if !ok || v == 0 {
				return nil, fmt.Errorf("random: step must be a non-zero integer")
			}
			sp = v
		}
		width := e - st
		var n int
		switch {
		case sp > 0:
			n = (width + sp - 1) / sp
		default:
			n = (width + sp + 1) / sp
		}
		i, err := below(n)
		if err != nil {
			return nil, err
		}
		return st + sp*i, nil
	}
	if start != nil || step != nil {
		return nil, fmt.Errorf("random: start and step can only be used with integer values")
	}
	var l []any
	switch e := end.(type) {
	case string:
		for _, r := range e {
			l = append(l, string(r))
		}
	case []any:
		l = e
	default:
		return nil, fmt.Errorf("random can only be used on sequences and integers, got %s", typeName(end))
	}
	i, err := below(len(l))
	if err != nil {
		return nil, fmt.Errorf("random: an empty sequence")
	}
	return l[i], nil
}
