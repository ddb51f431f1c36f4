#!/usr/bin/env bash
# Builds the disposable Debian guest for the integration test (test/integration/):
# a bookworm rootfs with systemd, sshd, sudo, curl and python3, a user `deploy` with
# passwordless sudo and an ed25519 key made here, packed into an ext4 image with
# `mkfs.ext4 -d` (no loop mount), plus the guest's own kernel and initrd for `qemu -kernel`.
#
#   build-guest.sh OUT_DIR
#
# Writes OUT_DIR/{rootfs.img,vmlinuz,initrd.img,id_ed25519,id_ed25519.pub}. Needs root,
# debootstrap, e2fsprogs, openssh-client and Debian's mirror. The test caches OUT_DIR under a
# hash of this file, so editing it rebuilds the guest.
set -euo pipefail
out="${1:?usage: build-guest.sh OUT_DIR}"
suite=bookworm
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
user=deploy
size=2G

[ "$(id -u)" = 0 ] || { echo "build-guest: needs root (debootstrap, chown)" >&2; exit 1; }
mkdir -p "$out"
work="$(mktemp -d "$out/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"

debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,udev,dbus,openssh-server,sudo,curl,ca-certificates,iproute2,python3,procps,linux-image-amd64,initramfs-tools,zstd \
  "$suite" "$root" "$mirror"

echo tracestack-it > "$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 tracestack-it\n' > "$root/etc/hosts"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' > "$root/etc/fstab"
mkdir -p "$root/etc/systemd/network"
printf '[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n' > "$root/etc/systemd/network/10-eth0.network"
chroot "$root" systemctl enable systemd-networkd.service ssh.service >/dev/null
# Quiet, fast boots: no timers doing apt or fs scrubs behind the test's back.
for t in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer; do
  chroot "$root" systemctl mask "$t" >/dev/null 2>&1 || true
done
chroot "$root" systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1 || true

# sshd: keys only; the user's key made here.
chroot "$root" useradd --create-home --shell /bin/bash "$user"
printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$user" > "$root/etc/sudoers.d/$user"
chmod 0440 "$root/etc/sudoers.d/$user"
rm -f "$out/id_ed25519" "$out/id_ed25519.pub"
ssh-keygen -q -t ed25519 -N '' -C "tracestack-integration" -f "$out/id_ed25519"
install -d -m 0700 "$root/home/$user/.ssh"
install -m 0600 "$out/id_ed25519.pub" "$root/home/$user/.ssh/authorized_keys"
chroot "$root" chown -R "$user:$user" "/home/$user/.ssh"
printf 'PasswordAuthentication no\nUseDNS no\n' > "$root/etc/ssh/sshd_config.d/tracestack.conf"

# The kernel boots from outside the image (qemu -kernel/-initrd).
cp -L "$root/vmlinuz" "$work/vmlinuz" 2>/dev/null || cp "$root"/boot/vmlinuz-* "$work/vmlinuz"
cp -L "$root/initrd.img" "$work/initrd.img" 2>/dev/null || cp "$root"/boot/initrd.img-* "$work/initrd.img"
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*

mkfs.ext4 -q -F -L tracestack-it -d "$root" "$work/rootfs.img" "$size"
mv "$work/rootfs.img" "$work/vmlinuz" "$work/initrd.img" "$out/"
echo "build-guest: guest in $out"
