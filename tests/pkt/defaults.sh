#!/bin/sh
# What tcpharness's own .pkt tests start from, sourced by each as packetdrill scripts source theirs;
# tcpharness reads it (it never runs it): each line becomes a sysctl of the case's namespace.
ip tcp_metrics flush all > /dev/null 2>&1
sysctl -q net.ipv4.tcp_timestamps=1
sysctl -q net.ipv4.tcp_sack=1 net.ipv4.tcp_dsack=1
sysctl -q net.ipv4.tcp_rmem="4096 131072 $((6*1024*1024))"
echo 0 > /proc/sys/net/ipv4/tcp_ecn
# Gone from Linux since 4.15: the shell ignores the failure, and so does tcpharness.
sysctl -q net.ipv4.tcp_fack=0
tc qdisc add dev tun0 root pfifo
