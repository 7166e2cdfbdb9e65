// The chat protocol in Go's standard library: a peer for `python -m chatkit bench --peer`.
//
//	go build -o benchmarks/peers/go/chatpeer benchmarks/peers/go/chatpeer.go
//	benchmarks/peers/go/chatpeer PORT
//
// A goroutine per client reads lines; each member has a writer goroutine fed by a
// buffered channel, which writes everything queued in one Write (batching). A member
// whose channel is full has stopped reading and is disconnected.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
)

type member struct {
	conn net.Conn
	out  chan []byte
}

var (
	lock    sync.Mutex
	members = map[string]*member{}
)

func people(n int) string {
	if n == 1 {
		return "1 person"
	}
	return fmt.Sprintf("%d people", n)
}

// sendAll queues one line for every member (the caller holds the lock).
func sendAll(line string) {
	data := []byte(line + "\n")
	for nick, m := range members {
		select {
		case m.out <- data:
		default: // more than the channel holds: it stopped reading
			delete(members, nick)
			m.conn.Close()
		}
	}
}

func writer(m *member) {
	w := bufio.NewWriterSize(m.conn, 64<<10)
	for data := range m.out {
		w.Write(data)
		for more := true; more; { // everything already queued goes in the same write
			select {
			case data, ok := <-m.out:
				if !ok {
					more = false
					break
				}
				w.Write(data)
			default:
				more = false
			}
		}
		if w.Flush() != nil {
			return
		}
	}
}

func serve(conn net.Conn) {
	defer conn.Close()
	m := &member{conn: conn, out: make(chan []byte, 16384)}
	go writer(m)
	defer close(m.out)
	m.out <- []byte("Enter your nickname:\n")
	scanner := bufio.NewScanner(conn)
	nick := ""
	for scanner.Scan() {
		text := strings.TrimSpace(scanner.Text())
		lock.Lock()
		if nick == "" {
			if _, taken := members[text]; text != "" && !taken && !strings.ContainsAny(text, " :") {
				nick = text
				members[nick] = m
				sendAll(fmt.Sprintf("* %s joined. %s in the room.", nick, people(len(members))))
				sendAll("* Rules: be kind to each other.")
			} else {
				select {
				case m.out <- []byte("* The nickname is taken or invalid.\nEnter your nickname:\n"):
				default:
				}
			}
		} else if text == "/quit" {
			lock.Unlock()
			break
		} else if text != "" {
			sendAll(nick + ": " + text)
		}
		lock.Unlock()
	}
	lock.Lock()
	if members[nick] == m {
		delete(members, nick)
		sendAll(fmt.Sprintf("* %s left. %s in the room.", nick, people(len(members))))
	}
	lock.Unlock()
}

func main() {
	listener, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for {
		conn, err := listener.Accept()
		if err != nil {
			continue
		}
		go serve(conn)
	}
}
