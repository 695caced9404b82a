package modules

// Hardware facts: memory, DMI and the processors.

import (
	"strconv"
	"strings"
)

// dmiFacts are the DMI files read for the hardware facts, by fact name.
var dmiFacts = [][2]string{
	{"bios_date", "bios_date"}, {"bios_vendor", "bios_vendor"}, {"bios_version", "bios_version"},
	{"board_asset_tag", "board_asset_tag"}, {"board_name", "board_name"}, {"board_serial", "board_serial"},
	{"board_vendor", "board_vendor"}, {"board_version", "board_version"}, {"chassis_asset_tag", "chassis_asset_tag"},
	{"chassis_serial", "chassis_serial"}, {"chassis_vendor", "chassis_vendor"}, {"chassis_version", "chassis_version"},
	{"product_name", "product_name"}, {"product_serial", "product_serial"}, {"product_uuid", "product_uuid"},
	{"product_version", "product_version"}, {"system_vendor", "sys_vendor"},
}

var formFactors = []string{"Unknown", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box",
	"Mini Tower", "Tower", "Portable", "Laptop", "Notebook", "Hand Held", "Docking Station", "All In One",
	"Sub Notebook", "Space-saving", "Lunch Box", "Main Server Chassis", "Expansion Chassis", "Sub Chassis",
	"Bus Expansion Chassis", "Peripheral Chassis", "RAID Chassis", "Rack Mount Chassis", "Sealed-case PC",
	"Multi-system", "CompactPCI", "AdvancedTCA", "Blade", "Blade Enclosure", "Tablet", "Convertible",
	"Detachable", "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC"}

// hardwareFacts: memory, processors, uptime and DMI, as Ansible's
// LinuxHardware (mounts, devices and LVM are not collected).
func hardwareFacts(m map[string]string, plat map[string]any) map[string]any {
	out := map[string]any{}
	mem := map[string]int{}
	for _, l := range lines(m["meminfo"]) {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		if f := strings.Fields(v); len(f) > 0 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				mem[k] = n / 1024
			}
		}
	}
	if len(mem) > 0 {
		out["memtotal_mb"] = mem["MemTotal"]
		out["memfree_mb"] = mem["MemFree"]
		out["swaptotal_mb"] = mem["SwapTotal"]
		out["swapfree_mb"] = mem["SwapFree"]
		nocacheFree := mem["Cached"] + mem["MemFree"] + mem["Buffers"]
		out["memory_mb"] = map[string]any{
			"real":    map[string]any{"total": mem["MemTotal"], "free": mem["MemFree"], "used": mem["MemTotal"] - mem["MemFree"]},
			"nocache": map[string]any{"free": nocacheFree, "used": mem["MemTotal"] - nocacheFree},
			"swap": map[string]any{"total": mem["SwapTotal"], "free": mem["SwapFree"], "used": mem["SwapTotal"] - mem["SwapFree"],
				"cached": mem["SwapCached"]},
		}
	}
	arch, _ := plat["architecture"].(string)
	for k, v := range cpuFacts(m["cpuinfo"], arch) {
		out[k] = v
	}
	if n, err := strconv.Atoi(strings.TrimSpace(m["nproc"])); err == nil {
		out["processor_nproc"] = n
	}
	if f := strings.Fields(m["uptime"]); len(f) > 0 {
		if x, err := strconv.ParseFloat(f[0], 64); err == nil {
			out["uptime_seconds"] = int(x)
		}
	}
	for _, d := range dmiFacts {
		v, ok := m["dmi:"+d[1]]
		if !ok || strings.TrimSpace(v) == "" {
			v = "NA"
		}
		out[d[0]] = strings.TrimSpace(v)
	}
	out["form_factor"] = "NA"
	if n, err := strconv.Atoi(strings.TrimSpace(m["dmi:chassis_type"])); err == nil && n >= 0 && n < len(formFactors) {
		out["form_factor"] = formFactors[n]
	}
	return out
}

// cpuFacts ports Ansible's LinuxHardware.get_cpu_facts (without the Xen
// paravirtualisation case).
func cpuFacts(cpuinfo, arch string) map[string]any {
	var proc []any
	var vendors, models, procs, i int
	sockets := map[string]int{}
	var socketOrder []string
	cores := map[string]int{}
	var coreOrder []string
	physid, coreid := "0", "0"
	out := map[string]any{}
	setSocket := func(k string, v int) {
		if _, ok := sockets[k]; !ok {
			socketOrder = append(socketOrder, k)
		}
		sockets[k] = v
	}
	setCore := func(k string, v int) {
		if _, ok := cores[k]; !ok {
			coreOrder = append(coreOrder, k)
		}
		cores[k] = v
	}
	for _, l := range lines(cpuinfo) {
		k, v, _ := strings.Cut(l, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name", "Processor", "vendor_id", "cpu", "Vendor", "processor":
			proc = append(proc, v)
			switch k {
			case "vendor_id":
				vendors++
			case "model name":
				models++
			case "processor":
				procs++
			}
			i++
		case "physical id":
			physid = v
			if _, ok := sockets[physid]; !ok {
				setSocket(physid, 1)
			}
		case "core id":
			coreid = v
			if _, ok := sockets[coreid]; !ok {
				setCore(coreid, 1)
			}
		case "cpu cores":
			n, _ := strconv.Atoi(v)
			setSocket(physid, n)
		case "siblings":
			n, _ := strconv.Atoi(v)
			setCore(coreid, n)
		case "# processors":
			n, _ := strconv.Atoi(v)
			out["processor_cores"] = n
		case "ncpus active":
			i, _ = strconv.Atoi(v)
		}
	}
	if cpuinfo == "" {
		return out
	}
	out["processor"] = proc
	if vendors > 0 && vendors == models {
		i = vendors
	}
	if strings.HasPrefix(arch, "armv") || strings.HasPrefix(arch, "aarch") || strings.HasPrefix(arch, "ppc") {
		i = procs
	}
	if arch == "s390x" {
		return out
	}
	count := i
	if len(sockets) > 0 {
		count = len(sockets)
	}
	nc := 1
	if len(socketOrder) > 0 && sockets[socketOrder[0]] != 0 {
		nc = sockets[socketOrder[0]]
	}
	tpc := 1 / nc
	if len(coreOrder) > 0 {
		tpc = cores[coreOrder[0]] / nc
	}
	out["processor_count"] = count
	out["processor_cores"] = nc
	out["processor_threads_per_core"] = tpc
	out["processor_vcpus"] = tpc * count * nc
	out["processor_nproc"] = procs
	return out
}
