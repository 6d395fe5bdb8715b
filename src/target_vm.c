/* target_vm.c - the vm target: a Linux kernel (Debian's 6.1 or any kernel file, imaged by
 * scripts/vm-image.sh) under QEMU with TCG, its NIC a TAP in a network namespace of the harness's
 * own, its agent on a virtio-serial port. */
#include "target_backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "companion.h"
#include "error_text.h"
#include "tap_link.h"

/* The guest's address: the catalogue's own target address, so nothing is rewritten. */
#define VM_GUEST_IP 0xc0000201u
#define VM_GUEST_CIDR "192.0.2.1/24"
#define VM_GUEST_MAC "52:54:00:00:02:01"
static const uint8_t vm_guest_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x02, 0x01 };
/* TCG boots the cloud kernel in a few seconds; a loaded CI machine may take several times that. */
#define VM_BOOT_TIMEOUT_MS 180000
/* A kernel that prints nothing this long after QEMU started has no console we can read (no
 * CONFIG_SERIAL_8250_CONSOLE) or did not start at all: say so instead of waiting out the timeout. */
#define VM_SILENT_CONSOLE_MS 60000
#define VM_READY_MARK "TCPHARNESS-READY"
#define VM_FAILED_MARK "TCPHARNESS-FAILED"

struct vm {
	pid_t qemu;
	char dir[64];          /* console log and the agent's socket */
};

static void path_in(const struct vm *vm, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", vm->dir, name);
}

static void vm_stop(void *backend)
{
	struct vm *vm = backend;
	if (!vm)
		return;
	if (vm->qemu > 0) {
		kill(vm->qemu, SIGTERM);
		while (waitpid(vm->qemu, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (vm->dir[0]) {
		static const char *const files[] = { "console.log", "qemu.err", "agent.sock" };
		char path[128];
		for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
			path_in(vm, files[i], path, sizeof path);
			unlink(path);
		}
		rmdir(vm->dir);
	}
	free(vm);
}

/* The image's kernel: the PVH ELF where there is one (it boots faster), else the bzImage. */
static void boot_file(const char *image, char *out, size_t size)
{
	if (snprintf(out, size, "%.4000s/vmlinux", image) > 0 && access(out, R_OK) < 0)
		snprintf(out, size, "%.4000s/vmlinuz", image);
}

/* QEMU gets the TAP as descriptor 3 and dies with the harness. 1 GiB, because a smaller guest sizes
 * itself down (wscale 5, 1024 TIME_WAIT buckets at 256 MiB) and would not be the 6.1 a host runs;
 * vmlinux (the PVH entry), q35 and qemu64 boot fastest under TCG (docs/vm-notes.md). The TAP was
 * made without IFF_VNET_HDR, so QEMU passes whole frames with their checksums filled in.
 * debug-threads=on names the vCPU thread "CPU 0/TCG", whose run-queue wait the harness reads
 * (find_vcpu_thread).
 * no_timer_check: on a loaded host a TCG guest's IO-APIC timer check can miss its ticks and panic
 * ("IO-APIC + timer doesn't work!", seen at load average 35 with two guests booting); the check
 * proves nothing about TCP. */
static void __attribute__((noreturn)) exec_qemu(const struct vm *vm, const char *image, int tap_fd)
{
	char kernel[4096], initrd[4096], console[128], agent[128], err_path[128];
	boot_file(image, kernel, sizeof kernel);
	snprintf(initrd, sizeof initrd, "%.4000s/initrd.img", image);
	path_in(vm, "console.log", console, sizeof console);
	path_in(vm, "agent.sock", agent, sizeof agent);
	path_in(vm, "qemu.err", err_path, sizeof err_path);
	char console_dev[192], agent_dev[192];
	snprintf(console_dev, sizeof console_dev, "file,id=con,path=%s", console);
	snprintf(agent_dev, sizeof agent_dev, "socket,id=agent,path=%s,server=on,wait=off", agent);

	/* dup2 onto itself keeps close-on-exec: a TAP that already is fd 3 must lose it by hand, or QEMU
	 * finds whatever it opens first at fd 3 ("Unable to query TUNGETIFF on FD 3"). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    (tap_fd == 3 ? fcntl(tap_fd, F_SETFD, 0) : dup2(tap_fd, 3)) < 0)
		_exit(126);
	int null_fd = open("/dev/null", O_RDWR);
	int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (null_fd < 0 || err_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(126);
	close_range(4, ~0u, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execlp("qemu-system-x86_64", "qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display", "none",
	       "-no-reboot", "-name", "tcpharness,debug-threads=on", "-accel", "tcg", "-M", "q35", "-cpu", "qemu64", "-smp", "1", "-m", "1024", "-kernel", kernel,
	       "-initrd", initrd, "-append", "console=ttyS0 quiet panic=-1 no_timer_check tcpharness.ip=" VM_GUEST_CIDR, "-chardev",
	       console_dev, "-serial", "chardev:con", "-netdev", "tap,id=net0,fd=3", "-device",
	       "virtio-net-pci,romfile=,netdev=net0,mac=" VM_GUEST_MAC, "-device", "virtio-serial-pci,id=vser",
	       "-chardev", agent_dev, "-device", "virtserialport,bus=vser.0,chardev=agent,name=tcpharness.agent",
	       (char *)NULL);
	_exit(127);
}

/* The last lines of a file, for an error message. */
static void tail_of(const char *path, char *out, size_t size)
{
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t start = end > (off_t)size - 1 ? end - (off_t)size + 1 : 0;
	ssize_t n = pread(fd, out, size - 1, start);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
}

/* Polls the console for the init script's verdict. 0 once READY, -1 with *error otherwise. */
static int wait_ready(struct vm *vm, char **error)
{
	char console[128], text[1024];
	path_in(vm, "console.log", console, sizeof console);
	for (int waited = 0; waited < VM_BOOT_TIMEOUT_MS; waited += 20) {
		tail_of(console, text, sizeof text);
		if (strstr(text, VM_READY_MARK))
			return 0;
		int status;
		if (strstr(text, VM_FAILED_MARK) || waitpid(vm->qemu, &status, WNOHANG) == vm->qemu) {
			if (!strstr(text, VM_FAILED_MARK))
				vm->qemu = -1;
			char err_path[128], qemu_err[512];
			path_in(vm, "qemu.err", err_path, sizeof err_path);
			tail_of(err_path, qemu_err, sizeof qemu_err);
			return error_set(error, "vm: the guest did not come up:\n%s%s", text, qemu_err);
		}
		if (waited >= VM_SILENT_CONSOLE_MS && text[0] == '\0')
			return error_set(error, "vm: the kernel printed nothing on ttyS0 in %d s: it lacks "
					 "CONFIG_SERIAL_8250_CONSOLE, or QEMU cannot boot it", VM_SILENT_CONSOLE_MS / 1000);
		usleep(20000);
	}
	return error_set(error, "vm: no %s on the console within %d s", VM_READY_MARK, VM_BOOT_TIMEOUT_MS / 1000);
}

/* The guest runs only while QEMU's vCPU thread does: its /proc schedstat says how long it waited for
 * a host CPU (cpu_wait.h). Left "" when the thread is not found (a QEMU that names no threads). */
static void find_vcpu_thread(const struct vm *vm, struct target *t)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)vm->qemu);
	DIR *tasks = opendir(path);
	if (!tasks)
		return;
	struct dirent *d;
	while ((d = readdir(tasks))) {
		char comm_path[128], comm[32] = "";
		snprintf(comm_path, sizeof comm_path, "%s/%.20s/comm", path, d->d_name);
		FILE *f = fopen(comm_path, "re");
		if (!f)
			continue;
		bool vcpu = fgets(comm, sizeof comm, f) && strncmp(comm, "CPU 0/", 6) == 0;
		fclose(f);
		if (vcpu) {
			snprintf(t->vcpu_schedstat, sizeof t->vcpu_schedstat, "/proc/%d/task/%d/schedstat", (int)vm->qemu,
				 atoi(d->d_name));
			break;
		}
	}
	closedir(tasks);
}

static int connect_agent(const struct vm *vm, struct target *t, char **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	path_in(vm, "agent.sock", addr.sun_path, sizeof addr.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return error_set(error, "vm: agent socket %s: %s", addr.sun_path, strerror(err));
	}
	return agent_attach_stream(fd, &t->agent, error);
}

/* Where images of kernel files live between runs: vm-image.sh's stamp rebuilds one when the kernel,
 * its modules, the agent or init change. One directory per kernel and modules path. */
static int image_cache_dir(const struct target_options *o, char *out, size_t size, char **error)
{
	const char *base = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char root[4096];
	if (base && base[0])
		snprintf(root, sizeof root, "%s/tcpharness", base);
	else if (home && home[0])
		snprintf(root, sizeof root, "%s/.cache/tcpharness", home);
	else
		return error_set(error, "vm: neither XDG_CACHE_HOME nor HOME says where to keep the kernel's image");
	char kernel[4096], modules[4096] = "";
	if (!realpath(o->vm_kernel, kernel))
		return error_set(error, "vm: --kernel %s: %s", o->vm_kernel, strerror(errno));
	if (o->vm_modules && !realpath(o->vm_modules, modules))
		return error_set(error, "vm: --modules %s: %s", o->vm_modules, strerror(errno));
	uint64_t hash = 1469598103934665603ull; /* FNV-1a over both paths */
	for (const char *s = kernel; *s; s++)
		hash = (hash ^ (unsigned char)*s) * 1099511628211ull;
	for (const char *s = modules; *s; s++)
		hash = (hash ^ (unsigned char)*s) * 1099511628211ull;
	const char *name = strrchr(kernel, '/');
	int n = snprintf(out, size, "%s/vm-%.40s-%016llx", root, name ? name + 1 : kernel, (unsigned long long)hash);
	return n < 0 || (size_t)n >= size ? error_set(error, "vm: cache path too long") : 0;
}

/* scripts/vm-image.sh --kernel: its output (what the kernel lacks, say) goes to the user's stderr. */
int target_vm_image_of_kernel(const struct target_options *o, char *image, size_t size, char **error)
{
	char script[4096], agent[4096];
	char *missing = NULL;
	if (companion_find("vm-image.sh", script, sizeof script, &missing) < 0 ||
	    companion_find("tcpharness-agent-static", agent, sizeof agent, &missing) < 0) {
		error_set(error, "vm: %s (a plain build makes tcpharness-agent-static)", missing ? missing : "out of memory");
		free(missing);
		return -1;
	}
	if (image_cache_dir(o, image, size, error) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		if (o->vm_modules)
			execl(script, script, "--kernel", o->vm_kernel, "--modules", o->vm_modules, image, agent, (char *)NULL);
		else
			execl(script, script, "--kernel", o->vm_kernel, image, agent, (char *)NULL);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return error_set(error, "vm: running %s: %s", script, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return error_set(error, "vm: %s could not make an image of %s (exit %d; the reasons are above)", script,
				 o->vm_kernel, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

int target_vm_start(const struct target_options *options, struct target *t, char **error)
{
	char built[4096];
	const char *image = options->vm_image;
	if (options->vm_kernel) {
		if (target_vm_image_of_kernel(options, built, sizeof built, error) < 0)
			return -1;
		image = built;
	}
	char path[4096];
	struct stat st;
	for (int i = 0; i < 2; i++) {
		if (i == 0)
			boot_file(image, path, sizeof path);
		else
			snprintf(path, sizeof path, "%.4000s/initrd.img", image);
		if (stat(path, &st) < 0)
			return error_set(error, "vm: %s: %s (build the image with scripts/vm-image.sh %s "
					 "build/tcpharness-agent-static)", path, strerror(errno), image);
	}
	struct vm *vm = calloc(1, sizeof *vm);
	if (!vm)
		return error_set(error, "out of memory");
	t->backend = vm;
	t->backend_stop = vm_stop;
	snprintf(vm->dir, sizeof vm->dir, "/tmp/tcpharness-vm-XXXXXX");
	if (!mkdtemp(vm->dir)) {
		vm->dir[0] = '\0';
		return error_set(error, "vm: mkdtemp: %s", strerror(errno));
	}
	/* The TAP dies with QEMU's descriptor and its namespace with the harness. */
	char ifname[IF_NAMESIZE];
	snprintf(ifname, sizeof ifname, "thvm%d", (int)getpid());
	struct tap_link link;
	int tap_fd;
	if (tap_link_create(ifname, false, &link, &tap_fd, error) < 0)
		return -1;
	t->harness_netns_fd = link.netns_fd;
	snprintf(t->ifname, sizeof t->ifname, "%s", link.ifname);
	memcpy(t->harness_mac, link.mac, 6);
	vm->qemu = fork();
	if (vm->qemu == 0)
		exec_qemu(vm, image, tap_fd);
	int err = errno;
	close(tap_fd);
	if (vm->qemu < 0)
		return error_set(error, "vm: fork: %s", strerror(err));
	t->target_ip = VM_GUEST_IP;
	memcpy(t->target_mac, vm_guest_mac, 6);
	if (wait_ready(vm, error) < 0 || connect_agent(vm, t, error) < 0)
		return -1;
	find_vcpu_thread(vm, t);
	return target_attach_link(t, error);
}

bool target_vm_runs_family(enum address_family family)
{
	(void)family;
	return true;
}
