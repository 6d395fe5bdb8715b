/* target_vm.c - the vm target: Debian's Linux 6.1 (scripts/vm-image.sh) under QEMU with TCG, its NIC
 * a TAP in a network namespace of the harness's own, its agent on a virtio-serial port. */
#include "target_backend.h"

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

#include "error_text.h"
#include "tap_link.h"

/* The guest's address: the catalogue's own target address, so nothing is rewritten. */
#define VM_GUEST_IP 0xc0000201u
#define VM_GUEST_CIDR "192.0.2.1/24"
#define VM_GUEST_MAC "52:54:00:00:02:01"
/* TCG boots the cloud kernel in a few seconds; a loaded CI machine may take several times that. */
#define VM_BOOT_TIMEOUT_MS 180000
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

/* QEMU gets the TAP as descriptor 3 and dies with the harness. 1 GiB, because a smaller guest sizes
 * itself down (wscale 5, 1024 TIME_WAIT buckets at 256 MiB) and would not be the 6.1 a host runs;
 * vmlinux (the PVH entry), q35 and qemu64 boot fastest under TCG (docs/vm-notes.md). The TAP was
 * made without IFF_VNET_HDR, so QEMU passes whole frames with their checksums filled in. */
static void __attribute__((noreturn)) exec_qemu(const struct vm *vm, const char *image, int tap_fd)
{
	char kernel[4096], initrd[4096], console[128], agent[128], err_path[128];
	snprintf(kernel, sizeof kernel, "%s/vmlinux", image);
	snprintf(initrd, sizeof initrd, "%s/initrd.img", image);
	path_in(vm, "console.log", console, sizeof console);
	path_in(vm, "agent.sock", agent, sizeof agent);
	path_in(vm, "qemu.err", err_path, sizeof err_path);
	char console_dev[192], agent_dev[192];
	snprintf(console_dev, sizeof console_dev, "file,id=con,path=%s", console);
	snprintf(agent_dev, sizeof agent_dev, "socket,id=agent,path=%s,server=on,wait=off", agent);

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || dup2(tap_fd, 3) < 0)
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
	       "-no-reboot", "-accel", "tcg", "-M", "q35", "-cpu", "qemu64", "-smp", "1", "-m", "1024", "-kernel", kernel,
	       "-initrd", initrd, "-append", "console=ttyS0 quiet panic=-1 tcpharness.ip=" VM_GUEST_CIDR, "-chardev",
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
		usleep(20000);
	}
	return error_set(error, "vm: no %s on the console within %d s", VM_READY_MARK, VM_BOOT_TIMEOUT_MS / 1000);
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

int target_vm_start(const struct target_options *options, struct target *t, char **error)
{
	const char *image = options->vm_image;
	char path[4096];
	struct stat st;
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", image, i ? "initrd.img" : "vmlinux");
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
	if (wait_ready(vm, error) < 0 || connect_agent(vm, t, error) < 0)
		return -1;
	return target_attach_link(t, error);
}
